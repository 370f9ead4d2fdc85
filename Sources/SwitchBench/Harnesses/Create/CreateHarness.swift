import CSwitchBench
import Foundation
import Glibc

/// What it costs to create a task and clean it up (claim C6), one row per kind of task, and the
/// zombie a process is between its exit and its parent's waitpid (a fact, not a timing).
/// One op = one creation and its cleanup, on one CPU. Processes and threads are created by a minimal C
/// parent (`MinimalParent`, the `switchbench-proc` helper), coroutines and Swift tasks in this process.
public struct CreateHarness: Harness {
    /// Where the helpers `switchbench-proc` and `switchbench-noop` are looked for; nil: beside this
    /// executable (`MinimalParent.directory`). Tests point it elsewhere.
    public var helperDirectory: String?

    public init(helperDirectory: String? = nil) { self.helperDirectory = helperDirectory }
    public let info = HarnessInfo("create", claims: ["C6"], summary: """
        create + clean up one process, thread, coroutine or Swift task (processes and threads from a minimal C parent); fork cost vs the parent's \
        memory; the zombie before waitpid
        """, mechanisms: [
        ("fork-exit-wait", "in the minimal parent: fork(); the child exit(0)s (as lmbench lat_proc fork); waitpid(); with 0, 64 MiB and 1 GiB touched"),
        ("fork-exec", "in the minimal parent: fork(); the child execve()s the static no-op switchbench-noop; waitpid()"),
        ("posix-spawn", "in the minimal parent: posix_spawn() of switchbench-noop; waitpid(); with 0, 64 MiB and 1 GiB touched"),
        ("pthread", "in the minimal parent: pthread_create() of a thread that returns at once; pthread_join()"),
        ("coroutine", "Coroutine: mmap'ed stack + guard page, first switch in and out, munmap"),
        ("swift-task", "Task(executorPreference:) on SingleThreadExecutor + await of its value"),
        ("zombie", "fact: an exited child shows state Z in /proc/<pid>/stat until waitpid, then is gone")],
        op: "one task created, run, cleaned up", section: "create")

    /// The parent's touched anonymous memory for the "fork cost vs the parent's mapped memory" rows
    /// (`footprint_bytes`): fork copies the parent's page tables (one entry per 4 KiB page), posix_spawn
    /// does not. The same sizes in --quick.
    public static let sweepSizes = [0, 64 << 20, 1 << 30]
    /// The mechanisms run at every size of `sweepSizes` (the others at 0 only).
    public static let sweepMechanisms = ["fork-exit-wait", "posix-spawn"]

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        selectedMechanisms(options).flatMap { m in
            (Self.sweepMechanisms.contains(m) ? Self.sweepSizes : [0]).map {
                CaseSpec(harness: id, mechanism: m, placement: .sameCPU, footprint: $0)
            }
        }
    }

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let cpu = context.allowedCPUs[0]
        if spec.mechanism == "zombie" { return [try Affinity.pinned([cpu]) { try zombieFact(cpu: cpu) }] }
        if let kind = MinimalParent.kind(spec.mechanism) {
            var config = context.options.sampler
            if spec.footprint > 0 {
                // A fork of a parent with 1 GiB takes tens of ms: one op per sample, and under load most
                // are preempted and retaken. The --quick counts bound the case (--all ≤ 60 s on 2 vCPUs).
                config.samples = min(config.samples, SamplerConfig.quick.samples)
                config.warmup = min(config.warmup, SamplerConfig.quick.warmup)
            }
            return [try Affinity.pinned([cpu]) { try runInMinimalParent(spec, kind: kind, cpu: cpu, config: config) }]
        }
        return try Affinity.pinned([cpu]) {
            // User-mode rows must show no switch of this thread: perf counts only it (and what it
            // creates); its CPU time covers the whole batch.
            let counter = SwitchCounter(usePerf: true)
            let config = context.options.sampler
            var notes: [String] = []
            let measured: Measured
            switch spec.mechanism {
            case "coroutine":
                notes.append("""
                    Coroutine init (malloc of control block and closure box, mmap + mprotect of a \(Coroutine.defaultStackSize / 1024) KiB stack + \
                    guard page), first switch in and back, deinit (munmap, free)
                    """)
                var sink = 0
                measured = try Sampler.run(config, counter: counter, check: .threadCPU) { k in
                    sink &+= try Coroutine.createRunDestroy(k)
                }
                withExtendedLifetime(sink) {}
            case "swift-task":
                notes.append("""
                    Task(executorPreference:) (heap-allocated task), enqueue, run, completion, await of its value, on SingleThreadExecutor (one \
                    thread)
                    """)
                let executor = SingleThreadExecutor()
                let total = UnsafeMutablePointer<Int>.allocate(capacity: 1)
                total.initialize(to: 0)
                defer { total.deallocate() }
                let sum = SendablePointer(total)
                measured = try Sampler.run(config, counter: counter, check: .threadCPU) { k in
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
            var r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue, cpus: [cpu],
                           tasks: 1, metric: "create_cleanup", samples: measured.perOp, opsPerSample: measured.opsPerSample,
                           switchesPerOp: measured.switchesPerOp, counterSource: counter.source,
                           cpusSeen: String(sb_sched_getcpu()))
            for n in notes { r.addNote(n) }
            r.addNote("in this process (user mode only)")
            r.applySampling(measured)
            r.expectedSwitchesPerOp = 0
            if let spo = measured.switchesPerOp, spo > 0.01 {
                r.invalidate(String(format: "kernel counted %.3f switches per creation, expected none (user mode only)", spo))
            }
            return [r]
        }
    }

    /// A process or thread row: the batches run in the minimal parent (`MinimalParent`), pinned to `cpu`
    /// like this thread, after it made `spec.footprint` bytes of anonymous memory resident.
    func runInMinimalParent(_ spec: CaseSpec, kind: String, cpu: Int, config: SamplerConfig) throws -> Record {
        var r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue, cpus: [cpu],
                       tasks: 1, footprintBytes: spec.footprint, metric: "create_cleanup", samples: [], opsPerSample: 0)
        let helpers: (parent: String, noop: String)
        switch MinimalParent.helpers(in: helperDirectory ?? MinimalParent.directory) {
        case .success(let h): helpers = h
        case .failure(let missing):
            r.addNote("n/a: \(missing)")
            return r
        }
        // /proc counts of the helper's threads: perf with inherit would also count every child it forks.
        let counter = SwitchCounter()
        let parent = try MinimalParent(parent: helpers.parent, noop: helpers.noop)
        counter.includeSelf = false
        counter.childPIDs = [parent.pid]
        let seen = try parent.cpu()
        var residency: (rss: Int, huge: Int)? = nil
        if spec.footprint > 0 {
            let address = try parent.touch(spec.footprint)
            residency = parent.residency(address: address, bytes: spec.footprint)
        }
        let mappings = parent.mappings()
        // The helper's CPU time and its reaped children's cover the batch: everything runs pinned to
        // this CPU, which never idles in it (a new task runs while its parent waits), so wall − CPU is
        // time other tasks had the CPU (as PreemptionCheck.processAndChildrenCPU, read in the helper).
        let measured = try Sampler.runTimed(config, counter: counter) { n in
            let b = try parent.batch(kind, n)
            return TimedSample(ns: b.ns, stolenNs: b.ns > b.cpuNs ? b.ns - b.cpuNs : 0)
        }
        let seenAfter = try parent.cpu()
        r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue, cpus: [cpu],
                   tasks: 1, footprintBytes: spec.footprint, metric: "create_cleanup", samples: measured.perOp,
                   opsPerSample: measured.opsPerSample, switchesPerOp: measured.switchesPerOp,
                   counterSource: counter.source, cpusSeen: seen == seenAfter ? String(seen) : "\(seen)/\(seenAfter)")
        r.setFact(CreateParent.key, CreateParent.minimal.rawValue)
        if let m = mappings { r.setFact(CreateParent.mappingsKey, String(m)) }
        r.addNote("run by a minimal C parent (\(MinimalParent.parentName), a small static executable, as lmbench's lat_proc) pinned to CPU \(cpu)")
        switch spec.mechanism {
        case "fork-exit-wait":
            r.addNote("fork (copy of the parent's mappings and page tables, COW), child exit() as lat_proc's, parent waitpid reaps the zombie")
        case "fork-exec":
            r.addNote("fork + execve of the static no-op \(MinimalParent.noopName) (new address space, program loading) + exit + waitpid")
        case "posix-spawn":
            r.addNote("""
                glibc posix_spawn of the static no-op \(MinimalParent.noopName) (clone(CLONE_VM|CLONE_VFORK) + execve, no page-table copy) + exit + \
                waitpid
                """)
        default:
            r.addNote("pthread_create (mmap'ed stack from glibc's cache, clone) + the thread returns + pthread_join")
        }
        if spec.mechanism == "fork-exec" || spec.mechanism == "posix-spawn" {
            r.setFact(ExecProgram.key, ExecProgram.staticNoop.rawValue)
        }
        r.applySampling(measured)
        if seen != cpu || seenAfter != cpu { r.invalidate("the minimal parent ran on CPU \(seen)/\(seenAfter), not \(cpu)") }
        if spec.footprint > 0 {
            r.addNote("the parent first made \(spec.footprint >> 20) MiB of private anonymous memory resident in 4 KiB pages (MADV_NOHUGEPAGE)")
            if let got = residency {
                r.setFact(CreateParent.hugeKey, String(got.huge))
                r.setFact(CreateParent.residentKey, String(got.rss))
                if got.huge > 0 {
                    r.invalidate("the kernel backed \(got.huge >> 10) KiB of the touched memory with huge pages (asked for 4 KiB pages)")
                }
                if got.rss < spec.footprint {
                    r.invalidate("only \(got.rss >> 10) KiB of the \(spec.footprint >> 10) KiB touched were resident")
                }
            } else {
                r.invalidate("the touched memory's pages could not be verified: /proc/\(parent.pid)/smaps unreadable")
            }
        }
        r.addNote("kernel switches of the minimal parent reported, not checked: it sleeps in waitpid/join while the new task runs")
        return r
    }

    /// The state letter in /proc/<pid>/stat ("Z" for a zombie), or nil when there is no such process.
    public static func procState(_ pid: pid_t) -> String? {
        guard let text = readProcFile("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    /// Forks a child with known memory and open files (`ZombieResources`), reads it alive, lets it exit,
    /// shows it as a zombie before waitpid (what exit freed, what it kept) and gone after.
    func zombieFact(cpu: Int) throws -> Record {
        var after = "?"
        let res = try ZombieResources.measure { pid in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            sb_untrack_child(pid)
            after = Self.procState(pid) ?? "gone"
        }
        let before = res.zombie.state ?? "gone"
        var r = Record(harness: id, mechanism: "zombie", placement: Placement.sameCPU.rawValue, cpus: [cpu], tasks: 1,
                       metric: "state_before_waitpid", unit: "state", samples: [], opsPerSample: 0)
        r.setFact(ZombieFact.beforeKey, before)
        r.setFact(ZombieFact.afterKey, after)
        r.addNote("""
            a child made \(ZombieResources.touchedBytes >> 20) MiB resident and opened \(ZombieResources.openedFDs) files, then called \
            _exit(\(ZombieResources.exitCode)): /proc/<pid>/stat state \(before)\(before == "Z" ? " (zombie)" : "") until the parent's waitpid; \
            after waitpid: \(after == "gone" ? "no /proc/<pid> (reaped)" : "state \(after)")
            """)
        if before != "Z" { r.invalidate("the exited child was not seen in state Z (saw \(before))") }
        if after != "gone" { r.invalidate("the child was still in /proc after waitpid (state \(after))") }
        res.record(into: &r)
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

/// The no-op program the fork-exec and posix-spawn rows exec'ed, stored as their `exec_program` fact:
/// now the package's static `switchbench-noop` (execve of a static binary: no dynamic loader, no shared
/// libraries). Older CSVs hold rows that exec'ed the suite's own binary (dynamic loading and Swift runtime
/// start-up: milliseconds in a debug build) or /bin/true (hundreds of µs); the costs are comparable only
/// between rows that ran the same program.
public enum ExecProgram: String, Sendable {
    case staticNoop = "switchbench-noop"
    /// Older rows only.
    case suite = "switchbench"
    /// Older rows only.
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

/// Which process created the tasks of a create row, stored as its `parent` fact: the minimal C parent
/// (`switchbench-proc`) for the fork, exec, spawn and pthread rows; rows of older CSVs (no fact) were
/// created by the suite's own Swift process (`inSuite`), whose larger address space made fork dearer.
/// Also the facts of the "fork cost vs the parent's mapped memory" rows: what the kernel gave the
/// touched memory (`footprint_bytes`), read back from the parent's /proc/<pid>/smaps.
public enum CreateParent: String, Sendable {
    case minimal = "switchbench-proc"
    case inSuite = "switchbench"
    static let key = "parent"
    /// Bytes of the touched memory backed by transparent huge pages (0 when the 4 KiB pages were granted).
    static let hugeKey = "touched_huge_bytes"
    /// Resident bytes of the touched memory.
    static let residentKey = "touched_resident_bytes"
    /// The parent's mappings (VMAs) before its loop: fork copies each, so a dynamically linked parent
    /// (lmbench's lat_proc with libtirpc maps about 70) forks slower than this static one.
    static let mappingsKey = "parent_mappings"

    /// The parent of a process or thread row of the create harness; nil for other rows.
    public static func of(_ r: Record) -> CreateParent? {
        guard r.harness == "create", MinimalParent.kind(r.mechanism) != nil else { return nil }
        return r.fact(key).flatMap(CreateParent.init) ?? .inSuite
    }

    /// The huge-page bytes read back for a sweep row; nil when not recorded.
    public static func hugeBytes(_ r: Record) -> Int? { r.fact(hugeKey).flatMap { Int($0) } }
    /// The parent's mappings when its loop ran; nil when not recorded.
    public static func mappings(_ r: Record) -> Int? { r.fact(mappingsKey).flatMap { Int($0) } }
    /// The resident bytes read back for a sweep row; nil when not recorded.
    public static func residentBytes(_ r: Record) -> Int? { r.fact(residentKey).flatMap { Int($0) } }
}

/// A pointer a Swift task may carry: the memory is used by one thread at a time (SingleThreadExecutor).
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}
