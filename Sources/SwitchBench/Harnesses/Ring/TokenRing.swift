import CSwitchBench
import Foundation
import Glibc

/// How the tasks of a token ring are created: the one thing that differs between the
/// `process` and `thread` harnesses, so their difference is the address-space switch (claim C1).
public enum TaskKind: String, Sendable {
    case process
    case thread
}

/// Process and thread switches: N tasks pass a token around a ring (N = 2 is a ping-pong).
/// One op = one lap of the token = N hand-offs; on one CPU each hand-off is a context switch.
///
///   pipe:  task i writes one byte into pipe i; task i+1 reads it (lmbench lat_ctx, perf bench sched pipe),
///          with read/write as plain system calls (sb_sys_read/sb_sys_write: see CSwitchBench.h).
///   futex: task i sets word i+1 to 1 and FUTEX_WAKEs it; task i+1 sleeps in FUTEX_WAIT on its word.
///
/// Every task runs the same loops, which make only system calls (no Swift allocation after fork).
/// `thread`: task 0 is the measuring thread, tasks 1…N−1 are pthreads running `serve`.
/// `process`: all N tasks are forked children. Task 0 is a driver that runs `drive`: it times the laps
/// it is told to run with the same monotonic clock and hands the nanoseconds back through shared memory.
/// Why not time from this process, as the thread harness does: this process has other threads (the
/// Swift runtime's, Dispatch's), and switching to or from a multi-threaded address space measured 5–10 %
/// slower here (2.65 → 2.90 µs a round trip once Dispatch threads existed). A forked child has one
/// thread, so the process rows time two single-threaded processes, as `perf bench sched pipe` does.
public struct TokenRingHarness: Harness {
    public let kind: TaskKind
    public init(kind: TaskKind) { self.kind = kind }

    public var info: HarnessInfo {
        HarnessInfo(kind.rawValue, claims: ["C1"], summary: kind == .process
            ? "context switch between processes (fork): token ring over pipes or a shared futex word"
            : "context switch between threads of one process: the same ring, no address-space change", mechanisms: [
            ("pipe", "one byte through a ring of pipes (blocking read/write)"),
            ("futex", "a word per task in MAP_SHARED memory, FUTEX_WAIT / FUTEX_WAKE"),
            ("yield", "the same word, waited for with sched_yield(): a switch with no wake-up and no IPC (same-cpu only; run only when asked for)")],
            op: "one lap of a ring of N tasks", section: "thread-and-process-rings")
    }
    public var placements: [Placement] { Placement.allCases }
    public var runQueueSensitive: Bool { true }
    /// The 2-task futex and pipe rings (yield runs only when asked for).
    public var switchKinds: [SwitchKind] {
        let (tier, en, zh): (SwitchKind.Tier, String, String) = kind == .process
            ? (.process, Terms.processSwitch.en, Terms.processSwitch.zh) : (.thread, Terms.threadSwitch.en, Terms.threadSwitch.zh)
        // The futex ring is the class table's thread and process switch only where the paired
        // `anatomy` switches were not measured (`Ledger.classKinds`).
        return ["futex", "pipe"].map { SwitchKind(harness: id, mechanism: $0, tier: tier, en: en, zh: zh, detail: $0, classRank: $0 == "futex" ? 1 : nil,
                                                  forced: $0 == "futex"
                                                      ? ("each task wakes the other with `FUTEX_WAKE` and sleeps in `FUTEX_WAIT` on one CPU",
                                                         "同一处理器上，每个任务用 `FUTEX_WAKE` 唤醒对方，再在 `FUTEX_WAIT` 中睡眠")
                                                      : ("each task writes a byte to the other's pipe and blocks reading its own, on one CPU",
                                                         "同一处理器上，每个任务往对方的管道写一个字节，再阻塞在读自己的管道上")) }
    }

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        var specs: [CaseSpec] = []
        // yield runs only when asked for by name, and only on one CPU (see Mechanism).
        for m in selectedMechanisms(options) where m != "yield" || options.mechanisms?.contains("yield") == true {
            for p in selectedPlacements(options) where m != "yield" || p == .sameCPU {
                for n in options.tasks {
                    for f in options.footprints {
                        specs.append(CaseSpec(harness: id, mechanism: m, placement: p, tasks: n, footprint: f))
                    }
                }
            }
        }
        return specs
    }

    /// How a task hands the token on. yield: the token is a word in shared memory, as with futex, but
    /// a task waiting for it calls sched_yield() instead of sleeping, so each hand-off is the
    /// scheduler switching between two runnable tasks (no wake-up, no IPC system call); between
    /// samples the tasks sleep in FUTEX_WAIT (the start and end marks wake them), so an idle ring never
    /// competes for its CPU. Same CPU only.
    enum Mechanism: UInt8 {
        case pipe, futex, yield
        init?(id: String) {
            switch id {
            case "pipe": self = .pipe
            case "futex": self = .futex
            case "yield": self = .yield
            default: return nil
            }
        }
    }

    /// Everything one task needs, as plain values and pointers into memory allocated before
    /// the task starts: a forked child may not allocate.
    struct HopTask {
        var index: Int32
        var mechanism: Mechanism
        var readFD: Int32 = -1
        var writeFD: Int32 = -1
        var word: UnsafeMutablePointer<UInt32>
        var nextWord: UnsafeMutablePointer<UInt32>
        var stop: UnsafeMutablePointer<UInt32>
        /// [CPU at start, CPU at end] as seen by sched_getcpu().
        var cpuSeen: UnsafeMutablePointer<Int32>
        var cpu: Int32
        var footprint: UnsafeMutablePointer<UInt8>?
        var footprintBytes: Int
        var isThread: Bool
        /// Run as SCHED_BATCH: no wakeup preemption, so a task switches only when it blocks.
        /// Rings of more than two need it: under SCHED_OTHER a woken task preempts the writer, which
        /// later switches back in only to block — measured here, 5.6 switches per lap of 4 instead of 4.
        /// With two tasks the preempted writer is the one awaiting the reply, so the count is 2 either
        /// way, and the policy stays the default one that `perf bench sched pipe` runs under.
        var batch: Bool
        /// Every pipe fd of the ring: a forked child closes those that are not its own.
        var allFDs: UnsafeMutableBufferPointer<Int32>
        /// This task's clocks at the edges of the current sample, in shared memory:
        /// [CPU ns at start, run_delay ns at start, CPU ns at end, run_delay ns at end]
        /// (run_delay UInt64.max when /proc/thread-self/schedstat could not be read).
        var edges: UnsafeMutablePointer<UInt64>
        /// What each task sets up for itself before it runs (the anatomy harness's variants).
        var setup: TaskSetup = .none
        /// Where the task writes its kernel thread id when it starts (nil: not asked).
        var tidOut: UnsafeMutablePointer<Int32>? = nil
        /// Per hand-off stamps, written only while the stamp token goes around (never in timed laps).
        var stamps: Stamps
    }

    /// Per hand-off stamps in shared memory (docs/methodology.md, "One hand-off at a time"). Hand-off k
    /// goes from task k mod N to task k+1 mod N: its waker writes sent[k] right before it wakes, its
    /// wakee recv[k] right after its wait returns. Only the task holding the token touches `hop`, so
    /// the stamps need no atomics beyond the hand-off's own release/acquire.
    struct Stamps {
        var hop: UnsafeMutablePointer<UInt64>
        var sent: UnsafeMutablePointer<UInt64>
        var recv: UnsafeMutablePointer<UInt64>
        var capacity: Int
        var tsc: Bool

        /// The waker, right before it wakes.
        @inline(__always) func sending() {
            let i = Int(hop.pointee)
            guard i < capacity else { return }
            hop.pointee = UInt64(i + 1)
            sent[i] = StampClock.read(tsc: tsc)
        }
        /// The wakee, right after its wait returned.
        @inline(__always) func received() {
            let r = StampClock.read(tsc: tsc)
            let i = Int(hop.pointee)
            if i > 0 && i <= capacity { recv[i - 1] = r }
        }
        /// The same for a wakee that may also be woken by no stamped hand-off (a Swift task woken from
        /// outside to start a batch): only a hand-off not yet received takes the stamp (`recv` starts zeroed).
        @inline(__always) func receivedOnce() {
            let r = StampClock.read(tsc: tsc)
            let i = Int(hop.pointee)
            if i > 0 && i <= capacity && recv[i - 1] == 0 { recv[i - 1] = r }
        }
    }

    /// What a ring task does to itself when it starts and at each sample's start mark.
    struct TaskSetup: Sendable, Equatable {
        /// Vector registers left in use (`sb_dirty_vectors`): 0 none, 1 AVX-512, 2 AMX tiles.
        var vectors: Int32 = 0
        /// Ask for an indirect branch barrier on every switch to this task (`sb_force_indirect_branch_barrier`).
        var indirectBranchBarrier = false
        /// Run as SCHED_BATCH whatever the ring's size (the anatomy's futex and pipe pairs: every
        /// hand-off then is one wake-up and one sleep, as the parts it is predicted from).
        var batch = false
        static let none = TaskSetup()
    }

    /// What task 0 passes around the ring: the token, or a mark that asks every task to note its
    /// own clocks (`edges`) as it passes: a pipe byte, or the futex word's value.
    /// The stamp token (`stampByte`, `stampWord`) is the token that asks each task to stamp its hand-off.
    static let tokenByte: UInt8 = 7, startByte: UInt8 = 0x53, endByte: UInt8 = 0x45, stampByte: UInt8 = 0x54
    static let tokenWord: UInt32 = 1, startWord: UInt32 = 2, endWord: UInt32 = 3, stampWord: UInt32 = 4

    /// Notes this task's CPU time and run_delay at a sample edge (two system calls, once per edge,
    /// outside the timed laps). `schedstat`: the task's own /proc/thread-self/schedstat fd.
    @inline(__always)
    static func mark(_ t: HopTask, end: Bool, schedstat: Int32) {
        let o = end ? 2 : 0
        if !end && t.setup.vectors != 0 { sb_dirty_vectors(t.setup.vectors) }
        t.edges[o] = Sampler.threadCPUNanoseconds()
        t.edges[o + 1] = sb_schedstat_run_delay(schedstat)
    }

    /// Pins the task and notes where it runs.
    static func begin(_ t: HopTask) {
        if t.cpu >= 0 {
            var c = t.cpu
            _ = sb_set_affinity(&c, 1)
        }
        if t.batch || t.setup.batch { _ = sb_set_sched_batch(1) }
        if t.setup.indirectBranchBarrier { _ = sb_force_indirect_branch_barrier() }
        if t.setup.vectors != 0 { sb_dirty_vectors(t.setup.vectors) }
        t.cpuSeen[0] = Int32(sb_sched_getcpu())
        if let out = t.tidOut { sb_store_release(UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt32.self), UInt32(bitPattern: sb_gettid())) }
    }

    /// The loop of tasks 1…N−1: receive the token, touch the footprint, pass it on, until the ring stops.
    static func serve(_ t: HopTask) {
        begin(t)
        let schedstat = sb_schedstat_open()
        defer { if schedstat >= 0 { close(schedstat) } }
        var byte: UInt8 = 0
        switch t.mechanism {
        case .pipe:
            while sb_sys_read(t.readFD, &byte, 1) == 1 {
                if byte == stampByte { t.stamps.received() }
                if byte != tokenByte && byte != stampByte { mark(t, end: byte == endByte, schedstat: schedstat) }
                if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
                if byte == stampByte { t.stamps.sending() }
                if sb_sys_write(t.writeFD, &byte, 1) != 1 { break }
            }
        case .futex:
            while true {
                var v = sb_load_acquire(t.word)
                while v == 0 {
                    _ = sb_futex_wait(t.word, 0, 0, 1)
                    v = sb_load_acquire(t.word)
                }
                if v == stampWord { t.stamps.received() }
                sb_store_release(t.word, 0)
                if sb_load_acquire(t.stop) != 0 { break }
                if v != tokenWord && v != stampWord { mark(t, end: v == endWord, schedstat: schedstat) }
                if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
                if v == stampWord { t.stamps.sending() }
                sb_store_release(t.nextWord, v)
                _ = sb_futex_wake(t.nextWord, 1, 1)
            }
        case .yield:
            // Inside a sample (after a start mark, until the end mark) wait by yielding; else sleep.
            var sampling = false
            while true {
                var v = sb_load_acquire(t.word)
                while v == 0 {
                    if sampling { sched_yield() } else { _ = sb_futex_wait(t.word, 0, 0, 1) }
                    v = sb_load_acquire(t.word)
                }
                sb_store_release(t.word, 0)
                if sb_load_acquire(t.stop) != 0 { break }
                if v != tokenWord {
                    mark(t, end: v == endWord, schedstat: schedstat)
                    sampling = v == startWord
                }
                sb_store_release(t.nextWord, v)
                // The next task sleeps only at a start mark (it yields inside a sample; task 0 always yields).
                if v == startWord { _ = sb_futex_wake(t.nextWord, 1, 1) }
            }
        }
        t.cpuSeen[1] = Int32(sb_sched_getcpu())
        // Threads share the fd table: closing our write end passes end-of-file down the ring.
        if t.isThread && t.mechanism == .pipe { close(t.writeFD) }
    }

    /// Task 0's op, `laps` times: send the token, wait for it to come back around, touch the footprint.
    /// This is the timed loop. Returns false when the ring broke (a task died or the ring was stopped).
    /// `byte`/`value`: what goes around (the token, or an edge mark).
    @inline(__always)
    static func runLaps(_ t: HopTask, _ laps: Int, byte sent: UInt8 = tokenByte, value: UInt32 = tokenWord) -> Bool {
        var byte = sent
        switch t.mechanism {
        case .pipe:
            for _ in 0..<laps {
                guard sb_sys_write(t.writeFD, &byte, 1) == 1, sb_sys_read(t.readFD, &byte, 1) == 1 else { return false }
                if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
            }
        case .futex:
            for _ in 0..<laps {
                sb_store_release(t.nextWord, value)
                _ = sb_futex_wake(t.nextWord, 1, 1)
                // No timeout, as every other task waits (`awaitToken`).
                guard awaitToken(t) else { return false }
                if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
            }
        case .yield:
            for _ in 0..<laps {
                sb_store_release(t.nextWord, value)
                // Task 1 sleeps between samples: the start mark wakes it.
                if value == startWord { _ = sb_futex_wake(t.nextWord, 1, 1) }
                var spins = 0
                while sb_load_acquire(t.word) == 0 {
                    sched_yield()
                    spins += 1
                    // A task that died leaves this thread alone on its CPU: yield returns at once.
                    if spins & 0xFFFF == 0, sb_load_acquire(t.stop) != 0 { return false }
                }
                sb_store_release(t.word, 0)
                if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
            }
        }
        return true
    }

    /// Task 0's futex wait for the token to come back, and its taking it (the word back to 0). Returns
    /// false when the ring was stopped instead. No timeout: a timed FUTEX_WAIT arms and cancels an
    /// hrtimer at every sleep, which the other tasks and the pipe rings do not pay (about 0.4 µs a
    /// sleep on a KVM guest), so the rows would time it. Nothing is lost by it: `RingInstance.stop`
    /// sets `stop` and then every word to non-zero and wakes it, which ends this wait (a word seen
    /// non-zero here was stored after `stop`, so the check below sees the flag); that stop is how a
    /// case ends on any error; a dead child's halts the ring the same way, from a thread asleep off the
    /// ring (`DeathWatch`). The stop check is the one every serving task makes per token.
    @inline(__always)
    static func awaitToken(_ t: HopTask) -> Bool {
        while sb_load_acquire(t.word) == 0 { _ = sb_futex_wait(t.word, 0, 0, 1) }
        sb_store_release(t.word, 0)
        return sb_load_acquire(t.stop) == 0
    }

    /// Task 0's stamped laps (pipe and futex): the token that asks every task to stamp its hand-off.
    /// Not timed as a batch; the stamps are the measurement. Returns false when the ring broke.
    static func runStampedLaps(_ t: HopTask, _ laps: Int) -> Bool {
        var byte = stampByte
        for _ in 0..<laps {
            switch t.mechanism {
            case .pipe:
                t.stamps.sending()
                guard sb_sys_write(t.writeFD, &byte, 1) == 1, sb_sys_read(t.readFD, &byte, 1) == 1 else { return false }
                t.stamps.received()
            case .futex:
                t.stamps.sending()
                sb_store_release(t.nextWord, stampWord)
                _ = sb_futex_wake(t.nextWord, 1, 1)
                // `awaitToken` with the stamp where `serve` takes it: right after the wait returned.
                while sb_load_acquire(t.word) == 0 { _ = sb_futex_wait(t.word, 0, 0, 1) }
                t.stamps.received()
                sb_store_release(t.word, 0)
                if sb_load_acquire(t.stop) != 0 { return false }
            case .yield:
                return false
            }
            if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
        }
        return true
    }

    /// One sample as task 0 sees it: the wall time of the timed laps, and over a window around them
    /// (from before a start mark goes around to after an end mark came back) the wall time, the CPU
    /// time all n tasks consumed in it, and the time they spent runnable but not running (run_delay,
    /// UInt64.max when a task could not read it).
    struct RingSample {
        var ns: UInt64 = 0
        var spanNs: UInt64 = 0
        var cpuNs: UInt64 = 0
        var runDelayNs: UInt64 = 0

        /// Stolen time = min(wall − Σ CPU, Σ run_delay), over the window (docs/busy-machines.md).
        /// Both terms count every moment a ring task was ready while its CPU ran another task.
        /// Same CPU: the CPU never idles (each hand-off wakes the next task at once), so wall − Σ CPU
        /// is exactly that; Σ run_delay there also counts a woken task waiting for its waker to block.
        /// Tasks on CPUs of their own: they idle while the token is elsewhere, so wall − Σ CPU is the
        /// wait being measured, but a task alone on its CPU is only ever delayed by another task:
        /// Σ run_delay is exact. Unpinned, the scheduler picks either case; the smaller term is exact
        /// in each and never below the stolen time. Without run_delay: same CPU only.
        func timed(sameCPU: Bool) -> TimedSample {
            let idleOrStolen = spanNs > cpuNs ? spanNs - cpuNs : 0
            let stolen: UInt64? = runDelayNs == UInt64.max
                ? (sameCPU ? idleOrStolen : nil)
                : min(idleOrStolen, runDelayNs)
            return TimedSample(ns: ns, spanNs: spanNs, stolenNs: stolen, extraOps: 2)
        }
    }

    /// Task 0's sample of `laps` timed laps, with an edge lap on each side (see RingSample).
    static func sample(_ t: HopTask, laps: Int, n: Int, edges: UnsafeMutablePointer<UInt64>, schedstat: Int32) -> RingSample? {
        let w0 = monotonicNanoseconds()
        let c0 = Sampler.threadCPUNanoseconds()
        let d0 = sb_schedstat_run_delay(schedstat)
        guard runLaps(t, 1, byte: startByte, value: startWord) else { return nil }
        let t0 = monotonicNanoseconds()
        guard runLaps(t, laps) else { return nil }
        let t1 = monotonicNanoseconds()
        guard runLaps(t, 1, byte: endByte, value: endWord) else { return nil }
        let d1 = sb_schedstat_run_delay(schedstat)
        let c1 = Sampler.threadCPUNanoseconds()
        let w1 = monotonicNanoseconds()
        var s = RingSample(ns: t1 - t0, spanNs: w1 - w0, cpuNs: c1 &- c0,
                           runDelayNs: d0 == UInt64.max || d1 == UInt64.max ? UInt64.max : d1 &- d0)
        for i in 1..<n {
            let e = edges + 4 * i
            s.cpuNs &+= e[2] &- e[0]
            if s.runDelayNs != UInt64.max {
                s.runDelayNs = e[1] == UInt64.max || e[3] == UInt64.max ? UInt64.max : s.runDelayNs &+ (e[3] &- e[1])
            }
        }
        return s
    }

    /// Shared-memory mailbox between this process and the forked driver (task 0 of a process ring).
    struct DriverControl {
        /// Bumped by the parent for each command; the driver waits on it.
        var commandSeq: UnsafeMutablePointer<UInt32>
        /// Laps to run; negative: exit.
        var laps: UnsafeMutablePointer<Int64>
        /// Set to the command's seq when done; the parent waits on it.
        var doneSeq: UnsafeMutablePointer<UInt32>
        var elapsedNs: UnsafeMutablePointer<UInt64>
        var failed: UnsafeMutablePointer<UInt32>
        /// The rest of the driver's RingSample: window, CPU time and run_delay of all tasks.
        var spanNs: UnsafeMutablePointer<UInt64>
        var cpuNs: UnsafeMutablePointer<UInt64>
        var runDelayNs: UnsafeMutablePointer<UInt64>
        /// Non-zero: the command's laps are stamped laps (`runStampedLaps`), not a timed sample.
        var stamped: UnsafeMutablePointer<UInt32>
    }

    /// Task 0 of a process ring: run and time the laps the parent asks for, until told to stop.
    static func drive(_ t: HopTask, _ c: DriverControl, n: Int, edges: UnsafeMutablePointer<UInt64>) {
        begin(t)
        let schedstat = sb_schedstat_open()
        defer { if schedstat >= 0 { close(schedstat) } }
        var seen: UInt32 = 0
        while true {
            while sb_load_acquire(c.commandSeq) == seen { _ = sb_futex_wait(c.commandSeq, seen, 0, 1) }
            seen = sb_load_acquire(c.commandSeq)
            let laps = c.laps.pointee
            if laps < 0 { break }
            if sb_load_acquire(c.stamped) != 0 {
                let ok = runStampedLaps(t, Int(laps))
                c.failed.pointee = ok ? 0 : 1
                sb_store_release(c.doneSeq, seen)
                _ = sb_futex_wake(c.doneSeq, 1, 1)
                if ok { continue } else { break }
            }
            let s = sample(t, laps: Int(laps), n: n, edges: edges, schedstat: schedstat)
            let ok = s != nil
            if let s {
                c.elapsedNs.pointee = s.ns
                c.spanNs.pointee = s.spanNs
                c.cpuNs.pointee = s.cpuNs
                c.runDelayNs.pointee = s.runDelayNs
            }
            c.failed.pointee = ok ? 0 : 1
            sb_store_release(c.doneSeq, seen)
            _ = sb_futex_wake(c.doneSeq, 1, 1)
            if !ok { break }
        }
        t.cpuSeen[1] = Int32(sb_sched_getcpu())
        if t.mechanism == .pipe { close(t.writeFD) }   // end-of-file down the ring
    }

    /// The timeout of a parent's futex wait for a ring's (or a pair's) answer, so that a child that
    /// died is noticed instead of hanging. Only ever a parent's, which sleeps outside the ring and
    /// waits once per sample: no task of a ring waits with a timeout (`awaitToken`).
    static let parentWaitNs = 500_000_000

    /// Runs the case once per CPU assignment of its placement (cross-cpu: once per kind of CPU pair
    /// the topology offers; the `cpus` column and the note tell them apart).
    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        try context.assignments(for: spec.placement, tasks: spec.tasks).flatMap {
            try run(spec, taskCPUs: $0.cpus, placementNote: $0.note, context: context)
        }
    }

    func run(_ spec: CaseSpec, taskCPUs: [Int], placementNote: String, context: RunContext) throws -> [Record] {
        // A process ring is always timed by a forked driver (task 0); a thread ring by this thread.
        let ring = try RingInstance(kind: kind, spec: spec, taskCPUs: taskCPUs, config: context.options.sampler,
                                    driven: kind == .process, stampCapacity: Self.stampTarget(context.options))
        defer { ring.close() }
        // Two-task rings stamp hand-offs between their timed samples (RingLatency.swift).
        let stamping = ring.n == 2 && ring.mechanism != .yield
        let (measured, stamped) = stamping
            ? try ring.measure(stamping: Self.stampTarget(context.options), limitNs: Self.stampLimitNs(context.options))
            : (try ring.measure(), nil)
        let handOffs = try stamped.map { try Self.stampPhase(ring, stamps: $0, options: context.options) }
        try ring.finish()
        let rows = makeRecords(spec: spec, n: ring.n, taskCPUs: taskCPUs, placementNote: placementNote,
                               measured: measured, ipc: ring.ipc, touch: ring.touch, counter: ring.counter,
                               cpuSeen: ring.cpusSeen)
        guard let handOffs, let base = rows.first(where: { $0.metric == "round_trip" }) else { return rows }
        return rows + Self.latencyRecords(handOffs, like: base, taskCPUs: taskCPUs)
    }
}
