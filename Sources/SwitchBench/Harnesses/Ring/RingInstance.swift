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
    private let stamps: TokenRingHarness.Stamps
    private let sameCPU: Bool
    private var group: TaskGroup
    /// A process ring's watch over its children (nil: thread ring, or no pidfds here), and the flag it
    /// sets when one died (in this process's memory; only this process reads it).
    private var watch: DeathWatch?
    private let broken: UnsafeMutablePointer<UInt32>
    private var seq: UInt32 = 0
    private var stopped = false
    private var closed = false

    init(kind: TaskKind, spec: CaseSpec, taskCPUs: [Int], config: SamplerConfig, driven: Bool,
         setup: TokenRingHarness.TaskSetup = .none, stampCapacity: Int = 0) throws {
        let n = spec.tasks
        let mech = try Self.check(spec: spec, taskCPUs: taskCPUs)
        signal(SIGPIPE, SIG_IGN)   // a dead reader must show as EPIPE, not kill us
        (self.kind, self.n, self.mechanism, self.driven, self.taskCPUs, self.config) = (kind, n, mech, driven, taskCPUs, config)
        let m = try Memory(n: n, footprint: spec.footprint, stampCapacity: stampCapacity)
        (shared, sharedBytes, footprintBase, footprintBytes) = (m.shared, m.sharedBytes, m.footprintBase, m.footprintBytes)
        (stopWord, control, edges, tids, cpuSeen, stamps) = (m.word(n), m.control, m.edges, m.tids, m.cpuSeen, m.stamps)
        // Same CPU: every task pinned to one CPU (wall − Σ CPU alone is exact there; see RingSample).
        sameCPU = !taskCPUs.isEmpty && Set(taskCPUs).count == 1

        // Pipes: pipe i is written by task i and read by task i+1.
        allFDs = .allocate(capacity: 2 * n)
        allFDs.initialize(repeating: -1)
        group = TaskGroup(kind: kind)
        counter = SwitchCounter()   // placeholder until the tasks exist (replaced below)
        ipc = Measured(perOp: [], opsPerSample: 0, switches: nil, totalOps: 0)
        touch = nil
        tasks = []
        broken = .allocate(capacity: 1)
        broken.initialize(to: 0)
        // From here on `close()` frees what was set up, also when setting up fails.
        do {
            if mech == .pipe { try openPipes() }
            tasks = makeTasks(m, spec: spec, setup: setup)
            // The cost of one hand-off without a switch, and of one footprint touch, in one task on
            // task 0's CPU. Measured here (single task: no address-space question arises).
            (ipc, touch) = try Affinity.pinned(taskCPUs.isEmpty ? [] : [taskCPUs[0]]) { () throws -> (Measured, Measured?) in
                let ipc = try TokenRingHarness.measureIPC(mech, config: config, word: m.word(n + 1))
                var touch: Measured? = nil
                if let f = m.footprint(0) {
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

    /// The case's shape, checked before anything is allocated; returns its mechanism.
    private static func check(spec: CaseSpec, taskCPUs: [Int]) throws -> TokenRingHarness.Mechanism {
        // Last line of defence (the Runner skips such cases, the CLI refuses them): a cross-cpu row
        // never has all its tasks on one CPU.
        if spec.placement == .crossCPU && Set(taskCPUs).count < 2 {
            throw SwitchBenchError.caseFailed("cross-cpu needs at least 2 distinct CPUs; the assignment was CPU \(CPUList.format(taskCPUs))")
        }
        guard spec.tasks >= 2 else { throw SwitchBenchError.usage("--tasks must be at least 2 for \(spec.harness) (got \(spec.tasks))") }
        guard let mech = TokenRingHarness.Mechanism(id: spec.mechanism) else {
            throw SwitchBenchError.usage("unknown ring mechanism '\(spec.mechanism)'")
        }
        if mech == .yield && (taskCPUs.isEmpty || Set(taskCPUs).count != 1) {
            throw SwitchBenchError.usage("the yield hand-off needs every task on one CPU (same-cpu): on CPUs of their own the tasks would poll, not switch")
        }
        return mech
    }

    /// The ring's memory: the shared control block, each task's footprint, the stamps.
    ///
    /// Shared, one 64-byte line each: a futex word per task, the stop flag, a word for the no-switch
    /// IPC baseline, the driver's command and its answer; then the CPUs each task saw; then each
    /// task's sample-edge clocks (HopTask.edges), 32 bytes a task; last, each task's thread id (4 bytes
    /// a task), written by the task when it starts; then the stamps (`Stamps`: pages never touched
    /// when the ring does not stamp).
    private struct Memory {
        var shared: UnsafeMutableRawPointer
        var sharedBytes: Int
        var footprintBase: UnsafeMutableRawPointer?
        var footprintBytes: Int
        var stride: Int
        var n: Int
        var stamps: TokenRingHarness.Stamps

        init(n: Int, footprint: Int, stampCapacity: Int) throws {
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            let edgesOffset = (64 * (n + 4) + 8 * n + 63) / 64 * 64
            let stampBytes = 64 + 16 * stampCapacity
            sharedBytes = (edgesOffset + 36 * n + stampBytes + pageSize - 1) / pageSize * pageSize
            guard let p = mmap(nil, sharedBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else { throw SwitchBenchError.caseFailed("mmap of shared memory failed: \(errnoText(errno))") }
            shared = p
            self.n = n
            let stampBase = p + (edgesOffset + 36 * n + 63) / 64 * 64
            stamps = TokenRingHarness.Stamps(hop: stampBase.assumingMemoryBound(to: UInt64.self),
                                             sent: (stampBase + 64).assumingMemoryBound(to: UInt64.self),
                                             recv: (stampBase + 64 + 8 * stampCapacity).assumingMemoryBound(to: UInt64.self),
                                             capacity: stampCapacity, tsc: StampClock.shared.source == .tsc)
            // Each task's own footprint, written once here so every page is real (not the zero page).
            stride = (footprint + pageSize - 1) / pageSize * pageSize
            footprintBytes = stride * n
            footprintBase = nil
            if stride > 0 {
                guard let f = mmap(nil, stride * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                      f != MAP_FAILED else {
                    munmap(p, sharedBytes)
                    throw SwitchBenchError.caseFailed("mmap of \(stride * n) bytes of footprint failed: \(errnoText(errno))")
                }
                memset(f, 1, stride * n)
                footprintBase = f
            }
            for i in 0..<(2 * n) { cpuSeen[i] = -1 }
            for i in 0..<n { tids[i] = 0 }
        }
        func word(_ i: Int) -> UnsafeMutablePointer<UInt32> { (shared + 64 * i).assumingMemoryBound(to: UInt32.self) }
        var edgesOffset: Int { (64 * (n + 4) + 8 * n + 63) / 64 * 64 }
        var edges: UnsafeMutablePointer<UInt64> { (shared + edgesOffset).assumingMemoryBound(to: UInt64.self) }
        var tids: UnsafeMutablePointer<Int32> { (shared + edgesOffset + 32 * n).assumingMemoryBound(to: Int32.self) }
        var cpuSeen: UnsafeMutablePointer<Int32> { (shared + 64 * (n + 4)).assumingMemoryBound(to: Int32.self) }
        func footprint(_ i: Int) -> UnsafeMutablePointer<UInt8>? {
            footprintBase.map { ($0 + stride * i).assumingMemoryBound(to: UInt8.self) }
        }
        var control: TokenRingHarness.DriverControl {
            let a = shared + 64 * (n + 2), d = shared + 64 * (n + 3)
            return TokenRingHarness.DriverControl(
                commandSeq: word(n + 2), laps: (a + 8).assumingMemoryBound(to: Int64.self),
                doneSeq: word(n + 3), elapsedNs: (d + 8).assumingMemoryBound(to: UInt64.self),
                failed: (d + 16).assumingMemoryBound(to: UInt32.self),
                spanNs: (d + 24).assumingMemoryBound(to: UInt64.self),
                cpuNs: (d + 32).assumingMemoryBound(to: UInt64.self),
                runDelayNs: (d + 40).assumingMemoryBound(to: UInt64.self),
                stamped: (a + 16).assumingMemoryBound(to: UInt32.self))
        }
    }

    private func openPipes() throws {
        for i in 0..<n {
            var p: [Int32] = [0, 0]
            guard pipe(&p) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))") }
            allFDs[2 * i] = p[0]
            allFDs[2 * i + 1] = p[1]
            openFDs.formUnion(p)
        }
    }

    private func makeTasks(_ m: Memory, spec: CaseSpec, setup: TokenRingHarness.TaskSetup) -> [TokenRingHarness.HopTask] {
        let (n, mech, allFDs, taskCPUs) = (self.n, self.mechanism, self.allFDs, self.taskCPUs)
        return (0..<n).map { i in
            TokenRingHarness.HopTask(index: Int32(i), mechanism: mech,
                    readFD: mech == .pipe ? allFDs[2 * ((i + n - 1) % n)] : -1,
                    writeFD: mech == .pipe ? allFDs[2 * i + 1] : -1,
                    word: m.word(i), nextWord: m.word((i + 1) % n), stop: m.word(n),
                    cpuSeen: m.cpuSeen + 2 * i,
                    cpu: taskCPUs.isEmpty ? -1 : Int32(taskCPUs[i]),
                    footprint: m.footprint(i), footprintBytes: spec.footprint,
                    isThread: kind == .thread, batch: n > 2, allFDs: allFDs, edges: m.edges + 4 * i, setup: setup,
                    tidOut: m.tids + i, stamps: m.stamps)
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
            let (broken, doneSeq, halt) = (self.broken, control.doneSeq, haltWords)
            watch = DeathWatch(pids: group.pids) {
                // A task died: mark it, end every task's wait (`halt`), and change the word this
                // process may be waiting on (`command`) so that its wait ends too.
                sb_store_release(broken, 1)
                halt()
                sb_store_release(doneSeq, UInt32.max)
                _ = sb_futex_wake(doneSeq, 1, 1)
            }
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

    /// The ring tasks' kernel thread ids (0 for one not started yet); task 0 is this thread when not driven.
    var taskIDs: [Int32] { (0..<n).map { $0 == 0 && !driven ? sb_gettid() : tids[$0] } }

    /// What each task saw of its CPU (sched_getcpu at start and end), task order.
    var cpusSeen: [(Int32, Int32)] { (0..<n).map { (cpuSeen[2 * $0], cpuSeen[2 * $0 + 1]) } }

    /// One timed sample of `laps` laps.
    func sample(_ laps: Int) throws -> TimedSample {
        guard driven else {
            guard let s = TokenRingHarness.sample(tasks[0], laps: laps, n: n, edges: edges, schedstat: schedstat)
            else { throw group.failure(during: "passing the token") }
            return s.timed(sameCPU: sameCPU)
        }
        try command(laps: laps, stamped: false)
        return TokenRingHarness.RingSample(ns: control.elapsedNs.pointee, spanNs: control.spanNs.pointee,
                                           cpuNs: control.cpuNs.pointee, runDelayNs: control.runDelayNs.pointee)
            .timed(sameCPU: sameCPU)
    }

    /// One command to the driver: run `laps` laps (timed, or stamped) and wait for it to answer.
    private func command(laps: Int, stamped: Bool) throws {
        control.laps.pointee = Int64(laps)
        sb_store_release(control.stamped, stamped ? 1 : 0)
        seq &+= 1
        sb_store_release(control.commandSeq, seq)
        _ = sb_futex_wake(control.commandSeq, 1, 1)
        // Asleep, off the ring, until the driver answers. A dead task ends the wait: the watch sets
        // `broken` and changes `doneSeq` (no timer); without a watch (thread rings, whose tasks cannot
        // die alone; or no pidfds) a timeout looks for a dead child.
        while true {
            let d = sb_load_acquire(control.doneSeq)
            if d == seq { break }
            if sb_load_acquire(broken) != 0 { throw group.failure(during: "passing the token") }
            if sb_futex_wait(control.doneSeq, d, watch == nil ? TokenRingHarness.parentWaitNs : 0, 1) == -ETIMEDOUT,
               let e = group.deadChild() {
                throw e
            }
        }
        if control.failed.pointee != 0 { throw group.failure(during: "passing the token") }
    }

    /// What the stamped laps left: per hand-off stamps in ticks, hand-off k from task k mod N.
    struct HandOffStamps {
        var n: Int
        var sent: [UInt64]
        var recv: [UInt64]
        /// The ring tasks' kernel thread ids (their pids in a process ring).
        var tids: [Int32]
        /// Monotonic ns around the stamped laps (the tracing window).
        var startNs: UInt64, endNs: UInt64
        /// Whether the laps ran between the batch samples (`measure(stamping:)`), not after them.
        var interleaved = false
        /// What an unprivileged reader saw over the stamped laps alone (`ProcWindow`, summed over chunks).
        var window = ProcWindow()
    }

    /// Stamped laps in chunks, until `laps` laps or `limitNs` of stamping: each task stamps its own
    /// hand-offs (`Stamps`), outside every timed sample. Called from task 0's thread (`asTask0`).
    private struct StampRun {
        let laps: Int, chunk: Int, limitNs: UInt64
        /// Whether the /proc window is read around each chunk (not for the traced run: the trace says more).
        var readsWindow = true
        var done = 0, spentNs: UInt64 = 0
        var startNs: UInt64 = 0, endNs: UInt64 = 0
        var window = ProcWindow()

        var finished: Bool { done >= laps || spentNs >= limitNs }
    }

    private func beginStamps(_ handOffs: Int, limitNs: UInt64, chunks: Int) throws -> StampRun {
        guard mechanism != .yield, stamps.capacity >= n else { throw SwitchBenchError.caseFailed("this ring does not stamp hand-offs") }
        let laps = min(handOffs, stamps.capacity) / n
        stamps.hop.pointee = 0
        return StampRun(laps: laps, chunk: max(1, (laps + chunks - 1) / chunks), limitNs: limitNs)
    }

    /// One chunk of stamped laps, with the /proc window around it (not inside: reading it switches nothing
    /// of the ring, but takes tens of microseconds).
    private func stampChunk(_ run: inout StampRun) throws {
        guard !run.finished else { return }
        let cpus = Set(taskCPUs)
        let before = run.readsWindow ? ProcWindow.take(tids: taskIDs, cpus: cpus) : nil
        let t0 = monotonicNanoseconds()
        if run.startNs == 0 { run.startNs = t0 }
        let k = min(run.chunk, run.laps - run.done)
        if driven { try command(laps: k, stamped: true) } else if !TokenRingHarness.runStampedLaps(tasks[0], k) {
            throw group.failure(during: "passing the stamp token")
        }
        let t1 = monotonicNanoseconds()
        if let before { run.window.add(ProcWindow.take(tids: taskIDs, cpus: cpus), since: before) }
        (run.done, run.spentNs, run.endNs) = (run.done + k, run.spentNs + (t1 - t0), t1)
    }

    private func collect(_ run: StampRun, interleaved: Bool) -> HandOffStamps {
        let count = run.done * n
        return HandOffStamps(n: n, sent: Array(UnsafeBufferPointer(start: stamps.sent, count: count)),
                             recv: Array(UnsafeBufferPointer(start: stamps.recv, count: count)),
                             tids: (0..<n).map { tids[$0] }, startNs: run.startNs, endNs: run.endNs,
                             interleaved: interleaved, window: run.window)
    }

    /// Stamped laps on their own, after the batches (the traced run; a ring whose switch count cannot
    /// be read between samples): until `handOffs` hand-offs (at most the stamp capacity) or `limitNs`.
    /// `readsWindow`: the /proc window around each chunk (`HandOffStamps.window`), which a traced run has no use for.
    func stampHandOffs(_ handOffs: Int, limitNs: UInt64, readsWindow: Bool = true) throws -> HandOffStamps {
        var run = try beginStamps(handOffs, limitNs: limitNs, chunks: max(1, handOffs / n / 2_000))
        run.readsWindow = readsWindow
        try asTask0 {
            if !driven { tids[0] = sb_gettid() }
            while !run.finished { try stampChunk(&run) }
        }
        return collect(run, interleaved: false)
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

    /// The ring's samples with `handOffs` stamped hand-offs interleaved: a chunk of stamped laps after
    /// each timed sample (`Sampler.runTimed`'s `between`, its switches left out of the count), so that
    /// the batch median and the one-way distribution come from the same seconds of the host. Where
    /// the switch count cannot be read between samples, the stamps run after the batches instead.
    func measure(stamping handOffs: Int, limitNs: UInt64) throws -> (Measured, HandOffStamps) {
        var run = try beginStamps(handOffs, limitNs: limitNs, chunks: config.samples)
        let measured = try asTask0 {
            if !driven { tids[0] = sb_gettid() }
            return try Sampler.runTimed(config, counter: counter, between: { try self.stampChunk(&run) }, timedBatch: sample)
        }
        if measured.interleaved && run.done > 0 { return (measured, collect(run, interleaved: true)) }
        return (measured, try stampHandOffs(handOffs, limitNs: limitNs))
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
        if mechanism != .pipe { haltWords() }
    }

    /// Ends every task's futex wait for good: the stop flag, then every word set and woken (a task that
    /// sees its word change checks the flag: `TokenRingHarness.awaitToken`, `serve`). None before
    /// the tasks exist: nothing to wake.
    private var haltWords: () -> Void {
        let (stop, words) = (stopWord, tasks.map(\.word))
        return {
            sb_store_release(stop, 1)
            for w in words {
                sb_store_release(w, 1)
                _ = sb_futex_wake(w, 1, 1)
            }
        }
    }

    /// Stops the ring and waits for every task to end normally.
    func finish() throws {
        watch?.end()   // before the tasks exit: their exits now are no deaths
        stop()
        try group.join()
    }

    /// Frees everything: stops and reaps the tasks if still running, closes fds, unmaps memory. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        watch?.end()
        stop()
        group.teardown()
        for fd in openFDs { Glibc.close(fd) }
        openFDs = []
        allFDs.deallocate()
        if let p = footprintBase { munmap(p, footprintBytes) }
        munmap(shared, sharedBytes)
        broken.deallocate()
    }
}
