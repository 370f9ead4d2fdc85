import CSwitchBench
import Glibc

/// One live token ring: its shared memory, pipes and tasks, started and waiting for laps to run.
/// `TokenRingHarness` times one ring at a time; the `anatomy` harness keeps a process ring and a
/// thread ring alive together and times them in alternating rounds (`Sampler.runPaired`), which is
/// why setting a ring up, timing a sample and tearing it down are separate steps here.
///
/// `driven`: task 0 is a task of its own kind (a forked child, or a pthread) that runs the laps this
/// thread asks for and reports their time through shared memory (`TokenRingHarness.drive`); so the
/// calling thread only waits between samples, asleep, and takes no part in the ring. Not driven
/// (thread rings of the `thread` harness): the calling thread is task 0 and runs the laps itself.
final class RingInstance {
    let kind: TaskKind
    let n: Int
    let mechanism: TokenRingHarness.Mechanism
    let driven: Bool
    let taskCPUs: [Int]
    let config: SamplerConfig
    /// One hand-off with no switch (and one footprint touch) in one task, measured before the ring starts.
    private(set) var ipc: Measured
    private(set) var touch: Measured?
    /// Created before the tasks, so that a perf counter is inherited by them.
    private(set) var counter: SwitchCounter

    private let shared: UnsafeMutableRawPointer
    private let sharedBytes: Int
    private let footprintBase: UnsafeMutableRawPointer?
    private let footprintBytes: Int
    private let allFDs: UnsafeMutableBufferPointer<Int32>
    private var openFDs = Set<Int32>()
    private var tasks: [TokenRingHarness.HopTask]
    private let control: TokenRingHarness.DriverControl
    private let edges: UnsafeMutablePointer<UInt64>
    private let cpuSeen: UnsafeMutablePointer<Int32>
    private let tids: UnsafeMutablePointer<Int32>
    private let stopWord: UnsafeMutablePointer<UInt32>
    private let sameCPU: Bool
    private var group: TaskGroup
    private var seq: UInt32 = 0
    private var stopped = false
    private var closed = false

    init(kind: TaskKind, spec: CaseSpec, taskCPUs: [Int], config: SamplerConfig, driven: Bool,
         setup: TokenRingHarness.TaskSetup = .none) throws {
        let n = spec.tasks
        // Last line of defence (the Runner skips such cases, the CLI refuses them): a cross-cpu row
        // never has all its tasks on one CPU.
        if spec.placement == .crossCPU && Set(taskCPUs).count < 2 {
            throw SwitchBenchError.caseFailed("cross-cpu needs at least 2 distinct CPUs; the assignment was CPU \(CPUList.format(taskCPUs))")
        }
        signal(SIGPIPE, SIG_IGN)   // a dead reader must show as EPIPE, not kill us
        guard n >= 2 else { throw SwitchBenchError.usage("--tasks must be at least 2 for \(spec.harness) (got \(n))") }
        guard let mech = TokenRingHarness.Mechanism(id: spec.mechanism) else {
            throw SwitchBenchError.usage("unknown ring mechanism '\(spec.mechanism)'")
        }
        if mech == .yield && (taskCPUs.isEmpty || Set(taskCPUs).count != 1) {
            throw SwitchBenchError.usage("the yield hand-off needs every task on one CPU (same-cpu): on CPUs of their own the tasks would poll, not switch")
        }
        (self.kind, self.n, self.mechanism, self.driven, self.taskCPUs, self.config) = (kind, n, mech, driven, taskCPUs, config)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

        // Shared memory, one 64-byte line each: a futex word per task, the stop flag, a word for the
        // no-switch IPC baseline, the driver's command and its answer; then the CPUs each task saw.
        // Then each task's sample-edge clocks (HopTask.edges), 32 bytes a task.
        let edgesOffset = (64 * (n + 4) + 8 * n + 63) / 64 * 64
        // Last, each task's thread id (4 bytes a task), written by the task when it starts.
        sharedBytes = (edgesOffset + 36 * n + pageSize - 1) / pageSize * pageSize
        guard let shared = mmap(nil, sharedBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              shared != MAP_FAILED else { throw SwitchBenchError.caseFailed("mmap of shared memory failed: \(errnoText(errno))") }
        self.shared = shared
        func word(_ i: Int) -> UnsafeMutablePointer<UInt32> {
            (shared + 64 * i).assumingMemoryBound(to: UInt32.self)
        }
        stopWord = word(n)
        control = TokenRingHarness.DriverControl(
            commandSeq: word(n + 2), laps: (shared + 64 * (n + 2) + 8).assumingMemoryBound(to: Int64.self),
            doneSeq: word(n + 3), elapsedNs: (shared + 64 * (n + 3) + 8).assumingMemoryBound(to: UInt64.self),
            failed: (shared + 64 * (n + 3) + 16).assumingMemoryBound(to: UInt32.self),
            spanNs: (shared + 64 * (n + 3) + 24).assumingMemoryBound(to: UInt64.self),
            cpuNs: (shared + 64 * (n + 3) + 32).assumingMemoryBound(to: UInt64.self),
            runDelayNs: (shared + 64 * (n + 3) + 40).assumingMemoryBound(to: UInt64.self))
        edges = (shared + edgesOffset).assumingMemoryBound(to: UInt64.self)
        tids = (shared + edgesOffset + 32 * n).assumingMemoryBound(to: Int32.self)
        // Same CPU: every task pinned to one CPU (wall − Σ CPU alone is exact there; see RingSample).
        sameCPU = !taskCPUs.isEmpty && Set(taskCPUs).count == 1
        cpuSeen = (shared + 64 * (n + 4)).assumingMemoryBound(to: Int32.self)
        for i in 0..<(2 * n) { cpuSeen[i] = -1 }
        for i in 0..<n { tids[i] = 0 }

        // Each task's own footprint, written once here so every page is real (not the zero page).
        let stride = (spec.footprint + pageSize - 1) / pageSize * pageSize
        footprintBytes = stride * n
        if stride > 0 {
            guard let p = mmap(nil, stride * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else {
                munmap(shared, sharedBytes)
                throw SwitchBenchError.caseFailed("mmap of \(stride * n) bytes of footprint failed: \(errnoText(errno))")
            }
            memset(p, 1, stride * n)
            footprintBase = p
        } else {
            footprintBase = nil
        }
        let footprintBase = self.footprintBase
        func footprint(_ i: Int) -> UnsafeMutablePointer<UInt8>? {
            footprintBase.map { ($0 + stride * i).assumingMemoryBound(to: UInt8.self) }
        }

        // Pipes: pipe i is written by task i and read by task i+1.
        allFDs = .allocate(capacity: 2 * n)
        allFDs.initialize(repeating: -1)
        group = TaskGroup(kind: kind)
        counter = SwitchCounter()   // placeholder until the tasks exist (replaced below)
        ipc = Measured(perOp: [], opsPerSample: 0, switches: nil, totalOps: 0)
        touch = nil
        tasks = []
        // From here on `close()` frees what was set up, also when setting up fails.
        do {
            if mech == .pipe {
                for i in 0..<n {
                    var p: [Int32] = [0, 0]
                    guard pipe(&p) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))") }
                    allFDs[2 * i] = p[0]
                    allFDs[2 * i + 1] = p[1]
                    openFDs.formUnion(p)
                }
            }
        } catch {
            close()
            throw error
        }
        let allFDs = self.allFDs, cpuSeen = self.cpuSeen, edges = self.edges, stopWord = self.stopWord, tids = self.tids
        tasks = (0..<n).map { i in
            TokenRingHarness.HopTask(index: Int32(i), mechanism: mech,
                    readFD: mech == .pipe ? allFDs[2 * ((i + n - 1) % n)] : -1,
                    writeFD: mech == .pipe ? allFDs[2 * i + 1] : -1,
                    word: word(i), nextWord: word((i + 1) % n), stop: stopWord,
                    cpuSeen: cpuSeen + 2 * i,
                    cpu: taskCPUs.isEmpty ? -1 : Int32(taskCPUs[i]),
                    footprint: footprint(i), footprintBytes: spec.footprint,
                    isThread: kind == .thread, batch: n > 2, allFDs: allFDs, edges: edges + 4 * i, setup: setup,
                    tidOut: tids + i)
        }
        do {
            // The cost of one hand-off without a switch, and of one footprint touch, in one task on
            // task 0's CPU. Measured here (single task: no address-space question arises).
            (ipc, touch) = try Affinity.pinned(taskCPUs.isEmpty ? [] : [taskCPUs[0]]) { () throws -> (Measured, Measured?) in
                let ipc = try TokenRingHarness.measureIPC(mech, config: config, word: word(n + 1))
                var touch: Measured? = nil
                if let f = footprint(0) {
                    touch = try Sampler.run(config) { k in
                        for _ in 0..<k { _ = sb_touch_lines(f, spec.footprint) }
                    }
                }
                return (ipc, touch)
            }
            counter = SwitchCounter()
            try startTasks()
        } catch {
            close()
            throw error
        }
    }

    /// Starts the ring's tasks: all N when driven (task 0 runs `drive`), else tasks 1…N−1.
    private func startTasks() throws {
        let (tasks, control, n, edges) = (self.tasks, self.control, self.n, self.edges)
        for i in (driven ? 0 : 1)..<n {
            let t = tasks[i]
            try group.start(keeping: [t.readFD, t.writeFD], allFDs: allFDs) {
                if i == 0 { TokenRingHarness.drive(t, control, n: n, edges: edges) } else { TokenRingHarness.serve(t) }
            }
        }
        if kind == .process {
            // Every task is a child: the ring's fds and switches are theirs alone.
            for fd in openFDs { Glibc.close(fd) }
            openFDs = []
            counter.childPIDs = group.pids
            counter.includeSelf = false
        } else if driven {
            // Every task is a thread of its own: count those threads only (not this one, nor another
            // ring's). Each writes its thread id when it starts.
            let raw = UnsafeMutableRawPointer(tids).assumingMemoryBound(to: UInt32.self)
            for _ in 0..<2000 where (0..<n).contains(where: { sb_load_acquire(raw + $0) == 0 }) { usleep(500) }
            guard (0..<n).allSatisfy({ sb_load_acquire(raw + $0) != 0 }) else {
                throw SwitchBenchError.caseFailed("the ring's threads did not start within 1 s")
            }
            counter.threadIDs = (0..<n).map { tids[$0] }
        }
    }

    /// What each task saw of its CPU (sched_getcpu at start and end), task order.
    var cpusSeen: [(Int32, Int32)] { (0..<n).map { (cpuSeen[2 * $0], cpuSeen[2 * $0 + 1]) } }

    /// One timed sample of `laps` laps.
    func sample(_ laps: Int) throws -> TimedSample {
        guard driven else {
            guard let s = TokenRingHarness.sample(tasks[0], laps: laps, n: n, edges: edges, schedstat: schedstat)
            else { throw group.failure(during: "passing the token") }
            return s.timed(sameCPU: sameCPU)
        }
        // One command to the driver: run `laps` laps and say how long they took.
        control.laps.pointee = Int64(laps)
        seq &+= 1
        sb_store_release(control.commandSeq, seq)
        _ = sb_futex_wake(control.commandSeq, 1, 1)
        while sb_load_acquire(control.doneSeq) != seq {
            if sb_futex_wait(control.doneSeq, seq &- 1, TokenRingHarness.parentWaitNs, 1) == -ETIMEDOUT, let e = group.deadChild() {
                throw e
            }
        }
        if control.failed.pointee != 0 { throw group.failure(during: "passing the token") }
        return TokenRingHarness.RingSample(ns: control.elapsedNs.pointee, spanNs: control.spanNs.pointee,
                                           cpuNs: control.cpuNs.pointee, runDelayNs: control.runDelayNs.pointee)
            .timed(sameCPU: sameCPU)
    }

    /// The calling thread's schedstat fd while it is task 0 (not driven), else -1.
    private var schedstat: Int32 = -1

    /// Runs `body` with the calling thread set up as task 0 when the ring is not driven (pinned,
    /// scheduled like the others, its schedstat open), restored afterwards.
    func asTask0<T>(_ body: () throws -> T) throws -> T {
        guard !driven else { return try body() }
        let t0 = tasks[0]
        return try Affinity.pinned(taskCPUs.isEmpty ? [] : [taskCPUs[0]]) {
            if t0.batch { _ = sb_set_sched_batch(1) }
            defer { if t0.batch { _ = sb_set_sched_batch(0) } }
            t0.cpuSeen[0] = Int32(sb_sched_getcpu())
            defer { t0.cpuSeen[1] = Int32(sb_sched_getcpu()) }
            schedstat = sb_schedstat_open()
            defer { if schedstat >= 0 { Glibc.close(schedstat) }; schedstat = -1 }
            return try body()
        }
    }

    /// The ring's samples, one ring alone (the sampler's usual loop).
    func measure() throws -> Measured {
        try asTask0 { try Sampler.runTimed(config, counter: counter, timedBatch: sample) }
    }

    /// Stops the ring (also on error, before reaping): the driver's exit command, end-of-file down
    /// the pipes, or the stop flag.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if driven {
            control.laps.pointee = -1
            sb_fetch_add(control.commandSeq, 1)
            _ = sb_futex_wake(control.commandSeq, 1, 1)
        } else if mechanism == .pipe {
            Glibc.close(tasks[0].writeFD)   // each thread closes its own write end when it sees end-of-file
            openFDs.remove(tasks[0].writeFD)
            // Only the threads that started; a task whose thread failed to start keeps its fd in
            // openFDs, closed on the way out.
            for t in tasks[1..<(1 + group.threadCount)] { openFDs.remove(t.writeFD) }
        }
        if driven && kind == .thread && mechanism == .pipe {
            // The driver thread closes its write end when told to exit; each server then closes its own.
            for t in tasks.prefix(group.threadCount) { openFDs.remove(t.writeFD) }
        }
        if mechanism != .pipe {
            sb_store_release(stopWord, 1)
            for t in tasks {   // none before they exist: nothing to wake
                sb_store_release(t.word, 1)
                _ = sb_futex_wake(t.word, 1, 1)
            }
        }
    }

    /// Stops the ring and waits for every task to end normally.
    func finish() throws {
        stop()
        try group.join()
    }

    /// Frees everything: stops and reaps the tasks if still running, closes fds, unmaps memory. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        stop()
        group.teardown()
        for fd in openFDs { Glibc.close(fd) }
        openFDs = []
        allFDs.deallocate()
        if let p = footprintBase { munmap(p, footprintBytes) }
        munmap(shared, sharedBytes)
    }
}
