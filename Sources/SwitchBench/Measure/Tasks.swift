import CSwitchBench
import Glibc

/// The tasks of one case: forked children or pthreads, always reaped.
/// A child that dies ends the case with a clear error; `teardown` kills and reaps whatever is left,
/// and the interrupt handler (sb_install_interrupt_cleanup) does the same on SIGINT/SIGTERM.
struct TaskGroup {
    let kind: TaskKind
    private(set) var pids: [pid_t] = []
    private var threads: [pthread_t] = []
    /// Threads started so far (a thread ring's write ends are theirs to close).
    var threadCount: Int { threads.count }

    init(kind: TaskKind) { self.kind = kind }

    /// The name (comm) of every forked ring task: static, so naming it allocates nothing.
    static let childName: StaticString = "sb-ring-task"

    /// Starts one task running `body`, which may only make system calls (it runs in forked children).
    /// A forked child closes every ring fd in `allFDs` except `keeping`, asks to die with its parent,
    /// and exits when body returns.
    mutating func start(keeping: [Int32], allFDs: UnsafeMutableBufferPointer<Int32>,
                        _ body: @escaping () -> Void) throws {
        switch kind {
        case .process:
            let keep0 = keeping.count > 0 ? keeping[0] : -1
            let keep1 = keeping.count > 1 ? keeping[1] : -1
            let pid = fork()
            if pid < 0 { throw SwitchBenchError.caseFailed("fork() failed: \(errnoText(errno))") }
            if pid == 0 {
                // Child: system calls only from here to _exit.
                _ = sb_set_parent_death_signal()
                _ = sb_set_name(Self.childName.utf8Start)   // ps shows "sb-ring-task"
                for fd in allFDs where fd >= 0 && fd != keep0 && fd != keep1 { close(fd) }
                body()
                _exit(0)
            }
            sb_track_child(pid)
            pids.append(pid)
        case .thread:
            threads.append(try Self.startThread(body))
        }
    }

    /// Starts a pthread that runs `body` (kept alive until it returns). Throws
    /// `.caseFailed("<failure>: <reason>")` when pthread_create fails.
    static func startThread(failure: String = "pthread_create failed", _ body: @escaping () -> Void) throws -> pthread_t {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let ctx = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let r = pthread_create(&tid, nil, { raw in
            let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
            box.body()
            return nil
        }, ctx)
        if r != 0 {
            Unmanaged<AnyObject>.fromOpaque(ctx).release()
            throw SwitchBenchError.caseFailed("\(failure): \(errnoText(r))")
        }
        return tid
    }

    /// A child that has already exited, as the error to report (nil while all live). When several
    /// have, the one killed by a signal is named: the others only followed the broken ring.
    mutating func deadChild() -> SwitchBenchError? { Self.deadChild(in: &pids) }

    /// The same over any list of forked children (reaped and removed from it when they have ended).
    static func deadChild(in pids: inout [pid_t]) -> SwitchBenchError? {
        let all = pids
        return death(reapEnded(&pids, of: all))
    }

    /// Reaps the children of `pids` that have ended and removes them from it: (task index in `all`,
    /// pid, wait status) each.
    private static func reapEnded(_ pids: inout [pid_t], of all: [pid_t]) -> [(index: Int, pid: pid_t, status: Int32)] {
        var exited: [(index: Int, pid: pid_t, status: Int32)] = []
        for pid in pids {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                sb_untrack_child(pid)
                exited.append((all.firstIndex(of: pid) ?? 0, pid, status))
            }
        }
        pids.removeAll { p in exited.contains { $0.pid == p } }
        return exited
    }

    /// The error naming a death among `ended` (nil when none): the one killed by a signal when there is
    /// one, since the others only followed the broken ring.
    private static func death(_ ended: [(index: Int, pid: pid_t, status: Int32)]) -> SwitchBenchError? {
        guard let worst = ended.first(where: { !Self.exited($0.status) }) ?? ended.first else { return nil }
        return .caseFailed("task \(worst.index) (pid \(worst.pid)) \(Self.describe(worst.status)) during the run")
    }

    /// The error for a failed hand-off: a dead child when there is one, else the errno.
    mutating func failure(during what: String) -> SwitchBenchError {
        let code = errno
        // Give dying children up to 0.1 s to become reapable, so the message names the one killed
        // (threads: none). The others follow the broken ring and may end first: a pipe reader sees
        // end-of-file while its killed writer is still on its way to being reapable.
        let all = pids
        var ended: [(index: Int, pid: pid_t, status: Int32)] = []
        for _ in 0..<(pids.isEmpty ? 0 : 50) {
            ended += Self.reapEnded(&pids, of: all)
            if pids.isEmpty || ended.contains(where: { !Self.exited($0.status) }) { break }
            usleep(2_000)
        }
        if let e = Self.death(ended) { return e }
        return .caseFailed("\(what) failed: \(code == 0 ? "a task closed its end of the ring" : errnoText(code))")
    }

    /// Waits for every task to finish normally; a child that did not exit 0 is an error.
    mutating func join() throws {
        var problem: SwitchBenchError? = nil
        for (i, pid) in pids.enumerated() {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            sb_untrack_child(pid)
            if !(Self.exited(status) && Self.exitStatus(status) == 0) && problem == nil {
                problem = .caseFailed("task \(i + 1) (pid \(pid)) \(Self.describe(status))")
            }
        }
        pids = []
        for t in threads { pthread_join(t, nil) }
        threads = []
        if let problem { throw problem }
    }

    /// After an error: SIGKILL and reap children that are still there. Threads have been stopped by
    /// the caller (end-of-file or stop flag) and are joined.
    mutating func teardown() {
        for pid in pids { kill(pid, SIGKILL) }
        try? join()
    }

    static func exited(_ s: Int32) -> Bool { s & 0x7f == 0 }
    static func exitStatus(_ s: Int32) -> Int32 { (s >> 8) & 0xff }
    static func describe(_ s: Int32) -> String {
        if exited(s) { return "exited with status \(exitStatus(s))" }
        let sig = s & 0x7f
        return "was killed by signal \(sig) (\(String(cString: strsignal(sig))))"
    }
}
