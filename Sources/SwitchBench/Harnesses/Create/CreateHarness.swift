import CSwitchBench
import Foundation
import Glibc

/// What it costs to create a task and clean it up (claim C6), one row per kind of task, and the
/// zombie a process is between its exit and its parent's waitpid (a fact, not a timing).
/// One op = one creation and its cleanup, on one CPU.
public struct CreateHarness: Harness {
    public init() {}
    public let info = HarnessInfo("create", claims: ["C6"], summary: "create + clean up one process, thread, coroutine or Swift task; the zombie before waitpid", mechanisms: [
        ("fork-exit-wait", "fork(); the child _exit(0)s; the parent waitpid()s"),
        ("fork-exec", "fork(); the child execve()s a no-op program; waitpid()"),
        ("posix-spawn", "posix_spawn() of the same no-op program; waitpid()"),
        ("pthread", "pthread_create() of a thread that returns at once; pthread_join()"),
        ("coroutine", "Coroutine: mmap'ed stack + guard page, first switch in and out, munmap"),
        ("swift-task", "Task(executorPreference:) on SingleThreadExecutor + await of its value"),
        ("zombie", "fact: an exited child shows state Z in /proc/<pid>/stat until waitpid, then is gone")])

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        selectedMechanisms(options).map { CaseSpec(harness: id, mechanism: $0, placement: .sameCPU) }
    }

    /// The environment variable that makes the switchbench binary exit at the top of main.swift.
    public static let noopVariable = "SWITCHBENCH_NOOP"

    /// The no-op program for fork-exec and posix-spawn: this binary with SWITCHBENCH_NOOP=1 when
    /// it is switchbench, else /bin/true (under `swift test` /proc/self/exe is the test runner).
    public static func noopProgram() -> (path: String, note: String, program: ExecProgram) {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        if (exe as NSString).lastPathComponent == "switchbench" {
            return (exe, "the suite's own binary with \(noopVariable)=1 (exits at the top of main: dynamic loading + Swift runtime start-up)", .suite)
        }
        return ("/bin/true", "/bin/true (this process is not the switchbench binary, e.g. under swift test)", .binTrue)
    }

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let cpu = context.allowedCPUs[0]
        if spec.mechanism == "zombie" { return [try Affinity.pinned([cpu]) { try zombieFact(cpu: cpu) }] }
        return try Affinity.pinned([cpu]) {
            // User-mode rows must show no switch of this thread: perf counts only it (and what it
            // creates). Kernel rows count /proc (an inherited perf event would add its copy to every fork).
            let userMode = spec.mechanism == "coroutine" || spec.mechanism == "swift-task"
            let counter = SwitchCounter(usePerf: userMode)
            let config = context.options.sampler
            var notes: [String] = []
            var expectNoSwitch = false
            // In-process kinds: this thread's CPU time. fork-exit-wait and pthread wait (waitpid, join)
            // while the new task runs on this same CPU (it inherits the pinning): this process's and its
            // reaped children's CPU time. An exec'd program may sleep while it loads (measured: half
            // the wall time of a fork-exec is not CPU time on a quiet machine): not checked.
            let waitCheck: PreemptionCheck = userMode ? .threadCPU
                : (spec.mechanism == "fork-exec" || spec.mechanism == "posix-spawn" ? .none : .processAndChildrenCPU)
            var program: ExecProgram? = nil
            let measured: Measured
            switch spec.mechanism {
            case "fork-exit-wait":
                notes.append("fork (copy of page tables, COW), child _exit, parent waitpid reaps the zombie")
                measured = try Sampler.run(config, counter: counter, check: waitCheck) { k in
                    for _ in 0..<k {
                        let pid = fork()
                        if pid == 0 { _exit(0) }
                        try Self.reap(pid, what: "fork")
                    }
                }
            case "fork-exec", "posix-spawn":
                let (path, note, noop) = Self.noopProgram()
                notes.append(note)
                program = noop
                let argv = CStrings([path])
                let envp = CStrings(["\(Self.noopVariable)=1"])
                defer { argv.free(); envp.free() }
                if spec.mechanism == "fork-exec" {
                    notes.append("fork + execve (new address space, program loading) + exit + waitpid")
                    measured = try Sampler.run(config, counter: counter, check: waitCheck) { k in
                        for _ in 0..<k {
                            let pid = fork()
                            if pid == 0 {
                                execve(argv.pointer[0]!, argv.pointer, envp.pointer)
                                _exit(127)
                            }
                            try Self.reap(pid, what: "fork+exec of \(path)")
                        }
                    }
                } else {
                    notes.append("glibc posix_spawn (clone(CLONE_VM|CLONE_VFORK) + execve, no page-table copy) + exit + waitpid")
                    measured = try Sampler.run(config, counter: counter, check: waitCheck) { k in
                        for _ in 0..<k {
                            var pid: pid_t = 0
                            let r = posix_spawn(&pid, argv.pointer[0]!, nil, nil, argv.pointer, envp.pointer)
                            guard r == 0 else { throw SwitchBenchError.caseFailed("posix_spawn(\(path)) failed: \(errnoText(r))") }
                            try Self.reap(pid, what: "posix_spawn of \(path)")
                        }
                    }
                }
            case "pthread":
                notes.append("pthread_create (mmap'ed stack from glibc's cache, clone) + the thread returns + pthread_join")
                measured = try Sampler.run(config, counter: counter, check: waitCheck) { k in
                    for _ in 0..<k {
                        var t = pthread_t()
                        let r = pthread_create(&t, nil, { _ in nil }, nil)
                        guard r == 0 else { throw SwitchBenchError.caseFailed("pthread_create failed: \(errnoText(r))") }
                        pthread_join(t, nil)
                    }
                }
            case "coroutine":
                notes.append("Coroutine init (malloc of control block and closure box, mmap + mprotect of a \(Coroutine.defaultStackSize / 1024) KiB stack + guard page), first switch in and back, deinit (munmap, free)")
                expectNoSwitch = true
                var sink = 0
                measured = try Sampler.run(config, counter: counter, check: waitCheck) { k in
                    sink &+= try Coroutine.createRunDestroy(k)
                }
                withExtendedLifetime(sink) {}
            case "swift-task":
                notes.append("Task(executorPreference:) (heap-allocated task), enqueue, run, completion, await of its value, on SingleThreadExecutor (one thread)")
                expectNoSwitch = true
                let executor = SingleThreadExecutor()
                let total = UnsafeMutablePointer<Int>.allocate(capacity: 1)
                total.initialize(to: 0)
                defer { total.deallocate() }
                let sum = SendablePointer(total)
                measured = try Sampler.run(config, counter: counter, check: waitCheck) { k in
                    Task(executorPreference: executor) {
                        for i in 0..<k {
                            let t = Task(executorPreference: executor) { i &+ 1 }
                            sum.pointer.pointee &+= await t.value
                        }
                    }
                    executor.runUntilIdle()
                }
            default:
                throw SwitchBenchError.usage("unknown create mechanism '\(spec.mechanism)'")
            }
            var r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue, cpus: String(cpu),
                           tasks: 1, metric: "create_cleanup", samples: measured.perOp, opsPerSample: measured.opsPerSample,
                           switchesPerOp: measured.switchesPerOp, counterSource: counter.source,
                           cpusSeen: String(sb_sched_getcpu()))
            for n in notes { r.addNote(n) }
            r.applySampling(measured)
            if let program { r.setFact(ExecProgram.key, program.rawValue) }
            if expectNoSwitch {
                r.expectedSwitchesPerOp = 0
                if let spo = measured.switchesPerOp, spo > 0.01 {
                    r.invalidate(String(format: "kernel counted %.3f switches per creation, expected none (user mode only)", spo))
                }
            } else {
                r.addNote("kernel switches reported, not checked: the parent sleeps in waitpid/join while the new task runs")
            }
            return [r]
        }
    }

    /// waitpid for a child that must exit 0. `what` is only built on failure: reap runs inside timed loops.
    @inline(__always)
    static func reap(_ pid: pid_t, what: @autoclosure () -> String) throws {
        guard pid > 0 else { throw SwitchBenchError.caseFailed("fork() failed: \(errnoText(errno))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw SwitchBenchError.caseFailed("waitpid(\(pid)) failed: \(errnoText(errno))") }
        }
        guard status == 0 else { throw SwitchBenchError.caseFailed("\(what()): child \(TaskGroup.describe(status))") }
    }

    /// The state letter in /proc/<pid>/stat ("Z" for a zombie), or nil when there is no such process.
    public static func procState(_ pid: pid_t) -> String? {
        guard let text = readProcFile("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    /// Forks a child that exits at once, shows it as a zombie before waitpid and gone after.
    func zombieFact(cpu: Int) throws -> Record {
        let pid = fork()
        if pid == 0 { _exit(0) }
        guard pid > 0 else { throw SwitchBenchError.caseFailed("fork() failed: \(errnoText(errno))") }
        sb_track_child(pid)
        var before = Self.procState(pid) ?? "gone"
        let t0 = monotonicNanoseconds()
        while before != "Z" && monotonicNanoseconds() - t0 < 2_000_000_000 {
            usleep(1000)
            before = Self.procState(pid) ?? "gone"
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        sb_untrack_child(pid)
        let after = Self.procState(pid) ?? "gone"
        var r = Record(harness: id, mechanism: "zombie", placement: Placement.sameCPU.rawValue, cpus: String(cpu), tasks: 1,
                       metric: "state_before_waitpid", unit: "state", samples: [], opsPerSample: 0)
        r.setFact(ZombieFact.beforeKey, before)
        r.setFact(ZombieFact.afterKey, after)
        r.addNote("child \(pid) called _exit(0): /proc/\(pid)/stat state \(before)\(before == "Z" ? " (zombie)" : "") until the parent's waitpid; after waitpid: \(after == "gone" ? "no /proc/\(pid) (reaped)" : "state \(after)")")
        if before != "Z" { r.invalidate("the exited child was not seen in state Z (saw \(before))") }
        if after != "gone" { r.invalidate("the child was still in /proc after waitpid (state \(after))") }
        return r
    }
}

/// The zombie check's outcome: the /proc state letter of an exited child before its parent's
/// waitpid ("Z") and after it ("gone" when reaped). Stored as facts of the `zombie` row.
public struct ZombieFact: Sendable, Equatable {
    static let beforeKey = "state_before_waitpid"
    static let afterKey = "state_after_waitpid"
    /// "Z", another state letter, or "gone".
    public var before: String
    public var after: String
    public var sawZombie: Bool { before == "Z" }
    public var reaped: Bool { after == "gone" }

    public init(before: String, after: String) {
        self.before = before
        self.after = after
    }

    /// The zombie row of a run, nil when it did not run.
    public static func row(_ run: RunResult) -> Record? {
        run.records.first { $0.harness == "create" && $0.mechanism == "zombie" }
    }

    /// The fact of a zombie row; for a CSV written before the facts column, read from this
    /// harness's own old note ("…/stat state Z (zombie) until…; after waitpid: no /proc/… (reaped)").
    /// nil: not recorded.
    public static func from(_ r: Record) -> ZombieFact? {
        if let b = r.fact(beforeKey) { return ZombieFact(before: b, after: r.fact(afterKey) ?? "") }
        let legacy = r.note
        guard let range = legacy.range(of: "/stat state ") else { return nil }
        let state = legacy[range.upperBound...].prefix { !$0.isWhitespace && $0 != ";" }
        let after = legacy.contains("(reaped)") ? "gone" : (legacy.range(of: "after waitpid: state ").map {
            String(legacy[$0.upperBound...].prefix { !$0.isWhitespace && $0 != ";" })
        } ?? "")
        return ZombieFact(before: String(state), after: after)
    }
}

/// The no-op program the fork-exec and posix-spawn rows exec: the suite's own binary (dynamic loading
/// and Swift runtime start-up: milliseconds in a debug build) or /bin/true (hundreds of µs). Stored as
/// the `exec_program` fact of those rows; the two costs are not comparable across machines that ran
/// different programs.
public enum ExecProgram: String, Sendable {
    case suite = "switchbench"
    case binTrue = "/bin/true"
    static let key = "exec_program"

    /// The program a create row exec'ed; for a CSV written before the facts column, read from this
    /// harness's own old note. nil: not an exec row, or not recorded.
    public static func of(_ r: Record) -> ExecProgram? {
        guard r.harness == "create" else { return nil }
        if let v = r.fact(key) { return ExecProgram(rawValue: v) }
        if r.note.contains("the suite's own binary") { return .suite }
        if r.note.contains("/bin/true (") { return .binTrue }
        return nil
    }
}

/// A NULL-terminated char* array made before fork, so the child allocates nothing.
struct CStrings {
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int
    init(_ strings: [String]) {
        count = strings.count
        pointer = .allocate(capacity: strings.count + 1)
        for (i, s) in strings.enumerated() { pointer[i] = strdup(s) }
        pointer[strings.count] = nil
    }
    func free() {
        for i in 0..<count { Glibc.free(pointer[i]) }
        pointer.deallocate()
    }
}

/// A pointer a Swift task may carry: the memory is used by one thread at a time (SingleThreadExecutor).
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}
