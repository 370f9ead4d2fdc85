import CSwitchBench
import Glibc

/// The tasks of one case: forked children or pthreads, always reaped.
/// A child that dies ends the case with a clear error; `teardown` kills and reaps whatever is left,
/// and the interrupt handler (sb_install_interrupt_cleanup) does the same on SIGINT/SIGTERM.
struct TaskGroup {
    let kind: TaskKind
    private(set) var pids: [pid_t] = []
    private var threads: [pthread_t] = []
    private var contexts: [UnsafeMutableRawPointer] = []

    init(kind: TaskKind) { self.kind = kind }

    /// Starts one task running `TokenRingHarness.serve(task)`.
    /// A forked child closes every ring fd except `keeping`, asks to die with its parent, and never returns.
    mutating func start(_ task: TokenRingHarness.HopTask, keeping: [Int32]) throws {
        let keep0 = keeping.count > 0 ? keeping[0] : -1
        let keep1 = keeping.count > 1 ? keeping[1] : -1
        switch kind {
        case .process:
            let pid = fork()
            if pid < 0 { throw SwitchBenchError.caseFailed("fork() failed: \(errnoText(errno))") }
            if pid == 0 {
                // Child: system calls only from here to _exit.
                _ = sb_set_parent_death_signal()
                for fd in task.allFDs where fd >= 0 && fd != keep0 && fd != keep1 { close(fd) }
                TokenRingHarness.serve(task)
                _exit(0)
            }
            sb_track_child(pid)
            pids.append(pid)
        case .thread:
            let ctx = UnsafeMutablePointer<TokenRingHarness.HopTask>.allocate(capacity: 1)
            ctx.initialize(to: task)
            var tid = pthread_t()
            let r = pthread_create(&tid, nil, { raw in
                TokenRingHarness.serve(raw!.assumingMemoryBound(to: TokenRingHarness.HopTask.self).pointee)
                return nil
            }, ctx)
            if r != 0 {
                ctx.deallocate()
                throw SwitchBenchError.caseFailed("pthread_create failed: \(errnoText(r))")
            }
            threads.append(tid)
            contexts.append(UnsafeMutableRawPointer(ctx))
        }
    }

    /// A child that has already exited, as the error to report (nil while all live).
    mutating func deadChild() -> SwitchBenchError? {
        for (i, pid) in pids.enumerated() {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                sb_untrack_child(pid)
                pids.remove(at: i)
                return .caseFailed("task \(i + 1) (pid \(pid)) \(Self.describe(status)) during the run")
            }
        }
        return nil
    }

    /// The error for a failed hand-off: a dead child when there is one, else the errno.
    mutating func failure(during what: String) -> SwitchBenchError {
        let code = errno
        // Give a dying child a moment to become reapable, so the message names it.
        for _ in 0..<50 {
            if let e = deadChild() { return e }
            usleep(2_000)
        }
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
        for c in contexts { c.deallocate() }
        contexts = []
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
