import CSwitchBench
import Glibc

/// The `wake-sleep` part of the anatomy harness: a futex hand-off's two halves, each timed alone
/// (Sources/CSwitchBench/wakesleep.c runs the tasks). Two tasks on one CPU, both SCHED_BATCH, take
/// turns: the active one wakes the other with FUTEX_WAKE (a woken SCHED_BATCH task does not preempt
/// its waker: kernel/sched/fair.c, check_preempt_wakeup_fair), calls FUTEX_WAKE again with no waiter
/// left, and goes to sleep in FUTEX_WAIT, which switches to the task it woke. Per wake and per sleep:
///
///   <kind>_wake       FUTEX_WAKE of a sleeping waiter, the clock read just around the call; proof: the
///                     waker's own switch count does not move across it (getrusage RUSAGE_THREAD), the
///                     call woke 1, and /proc/<tid>/stat shows the waiter `S` before and `R` after
///   <kind>_wake_none  FUTEX_WAKE on the same word right after, no waiter left (woke 0)
///   <kind>_wake_path  per sample, wake − wake_none: the wake-up path (try_to_wake_up)
///   <kind>_sleep      from the sleeper's clock read before FUTEX_WAIT to the woken task's read after its
///                     own FUTEX_WAIT returned: the futex queueing, taking the sleeper off the run
///                     queue, the pick, the switch, the return; proof: one switch of the sleeper per sleep
///
/// The re-arm of each half is the other half: nothing else runs between the timed regions but the
/// clock and getrusage reads. `kind` is process or thread (two forked children, or two pthreads).
final class WakeSleepPair {
    let kind: TaskKind
    private let s: UnsafeMutablePointer<sb_ws>
    private var group: TaskGroup
    private var seq: UInt32 = 0
    private var stopped = false
    /// What a batch's `TimedSample.parts` hold, in order (sums of ns, then counts).
    enum Part: Int, CaseIterable {
        case wakeNs, noneNs, woken, wokenNone, wakeSwitches, sleeps, sleepSwitches, disorder, checks, sawSleeping, sawRunnable
        /// 1 per batch: its per-op rate is 1 ÷ the batch's wakes, which turns a rate back into a count.
        case one
    }

    /// The kept samples' counts, summed as per-op rates (each sample's count ÷ its wakes): the proofs.
    struct Counts {
        var rates: [Double]
        init(_ m: Measured) {
            rates = Part.allCases.map { p in m.partsPerOp.reduce(0) { $0 + $1[p.rawValue] } }
        }
        subscript(_ p: Part) -> Double { rates[p.rawValue] }
        /// Samples kept (each has one wake per op, so its wakes' rate is 1).
        var samples: Double { self[.sleeps] }
    }

    init(kind: TaskKind, cpu: Int) throws {
        self.kind = kind
        let bytes = MemoryLayout<sb_ws>.stride
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            throw SwitchBenchError.caseFailed("mmap of the wake-sleep block failed: \(errnoText(errno))")
        }
        s = p.bindMemory(to: sb_ws.self, capacity: 1)
        s.pointee.cpu = Int32(cpu)
        group = TaskGroup(kind: kind)
        let empty = UnsafeMutableBufferPointer<Int32>(start: nil, count: 0)
        let shared = s
        do {
            for me in 0..<2 { try group.start(keeping: [], allFDs: empty) { sb_ws_task(shared, Int32(me)) } }
        } catch {
            close()
            throw error
        }
    }

    /// One batch of n wakes and n sleeps: ns = the sleeps' sum; parts = [wakes, wakes with none].
    func batch(_ n: Int) throws -> TimedSample {
        let w = s
        w.pointee.wake_ns = 0; w.pointee.none_ns = 0; w.pointee.sleep_ns = 0
        w.pointee.woken = 0; w.pointee.woken_none = 0; w.pointee.wake_switches = 0
        w.pointee.sleeps = 0; w.pointee.sleep_switches = 0; w.pointee.disorder = 0
        w.pointee.checks = 0; w.pointee.saw_sleeping = 0; w.pointee.saw_runnable = 0
        w.pointee.left = Int64(n)
        seq &+= 1
        let word0 = UnsafeMutableRawPointer(w).assumingMemoryBound(to: UInt32.self)   // word[0] is first
        let done = UnsafeMutableRawPointer(w).advanced(by: MemoryLayout<sb_ws>.offset(of: \sb_ws.done)!).assumingMemoryBound(to: UInt32.self)
        let batch = UnsafeMutableRawPointer(w).advanced(by: MemoryLayout<sb_ws>.offset(of: \sb_ws.batch)!).assumingMemoryBound(to: UInt32.self)
        sb_store_release(batch, seq)
        sb_store_release(word0, UInt32(SB_WS_START))
        _ = sb_futex_wake(word0, 1, 1)
        while true {
            let d = sb_load_acquire(done)
            if d == seq { break }
            if sb_futex_wait(done, d, TokenRingHarness.parentWaitNs, 1) == -ETIMEDOUT {
                if let e = group.deadChild() { throw e }
            }
        }
        let c = w.pointee
        let cpu = (c.cpu_last.0 &- c.cpu_first.0) &+ (c.cpu_last.1 &- c.cpu_first.1)
        // Out of turn: a switch in a wake call, or a sleeper preempted before it slept (the tick).
        let outOfTurn = c.wake_switches + c.disorder + (c.sleep_switches > c.sleeps ? c.sleep_switches - c.sleeps : 0)
        var t = TimedSample(ns: c.sleep_ns, spanNs: c.wall_ns, stolenNs: c.wall_ns > cpu ? c.wall_ns - cpu : 0,
                            involuntarySwitches: outOfTurn)
        t.parts = [c.wake_ns, c.none_ns, c.woken, c.woken_none, c.wake_switches, c.sleeps, c.sleep_switches, c.disorder,
                   c.checks, c.saw_sleeping, c.saw_runnable, 1]
        return t
    }

    /// The CPUs the two tasks saw at start and at stop, as "a/b" pairs (after `finish`).
    var cpusSeen: [(Int32, Int32)] { [(s.pointee.cpu_seen.0, s.pointee.cpu_seen.1), (s.pointee.cpu_seen.2, s.pointee.cpu_seen.3)] }

    private func stop() {
        guard !stopped else { return }
        stopped = true
        let words = UnsafeMutableRawPointer(s).assumingMemoryBound(to: UInt32.self)
        for i in 0..<2 {
            sb_store_release(words + i, UInt32(SB_WS_STOP))
            _ = sb_futex_wake(words + i, 1, 1)
        }
    }

    func finish() throws {
        stop()
        try group.join()
    }

    func close() {
        stop()
        group.teardown()
        munmap(s, MemoryLayout<sb_ws>.stride)
    }
}

extension AnatomyHarness {
    /// The `wake-sleep` rows: for processes, then threads, the four rows of `WakeSleepPair`.
    func wakeSleep(_ spec: CaseSpec, cpu: Int, config: SamplerConfig) throws -> [Record] {
        var rows: [Record] = []
        // Samples of 2 ms at most (--quick's): a sample is then still hundreds of wakes and sleeps, and
        // the pair, which sleeps at every half-cycle, meets fewer other tasks' time slices (--all ≤ 60 s).
        var config = config
        config.minSampleNs = min(config.minSampleNs, SamplerConfig.quick.minSampleNs)
        for kind in [TaskKind.process, .thread] {
            let pair = try WakeSleepPair(kind: kind, cpu: cpu)
            let m: Measured
            let seen: [(Int32, Int32)]
            do {
                m = try Sampler.runTimed(config) { n in try pair.batch(n) }
                try pair.finish()
                seen = pair.cpusSeen
            } catch {
                pair.close()
                throw error
            }
            pair.close()
            rows += wakeSleepRows(spec, kind: kind, cpu: cpu, measured: m, seen: seen)
        }
        return rows
    }

    static let wokenKey = "woken_per_wake", waiterBeforeKey = "waiter_state_before", waiterAfterKey = "waiter_state_after"
    static let stateChecksKey = "state_checks"

    func wakeSleepRows(_ spec: CaseSpec, kind: TaskKind, cpu: Int, measured m: Measured,
                       seen: [(Int32, Int32)]) -> [Record] {
        let k = kind.rawValue
        let c = WakeSleepPair.Counts(m)
        let wake = m.partsPerOp.map { $0[0] }, none = m.partsPerOp.map { $0[1] }
        let path = zip(wake, none).map { $0 - $1 }
        let cpusSeen = Set(seen.flatMap { [$0.0, $0.1] }).map(String.init).sorted().joined(separator: "/")
        func row(_ metric: String, _ samples: [Double], switches: Double?, expected: Double?, note: String, flagNoisy: Bool = true) -> Record {
            var r = Record(harness: id, mechanism: spec.mechanism, placement: Placement.sameCPU.rawValue, cpus: [cpu], tasks: 2,
                           metric: "\(k)_\(metric)", samples: samples, opsPerSample: m.opsPerSample, switchesPerOp: switches,
                           expectedSwitchesPerOp: expected, counterSource: "getrusage(RUSAGE_THREAD)", cpusSeen: cpusSeen, flagNoisy: flagNoisy)
            r.addNote(note)
            r.applySampling(m)
            if seen.contains(where: { Int($0.0) != cpu || Int($0.1) != cpu }) {
                r.invalidate("a task ran on CPU \(cpusSeen), pinned to \(cpu)")
            }
            return r
        }
        let two = kind == .process ? "two processes" : "two threads"
        let kept = c.samples
        let wakeSw = kept > 0 ? c[.wakeSwitches] / kept : nil
        var w = row("wake", wake, switches: wakeSw, expected: 0,
                    note: """
                        FUTEX_WAKE of a task asleep in FUTEX_WAIT (\(two), SCHED_BATCH, one CPU: the woken task does not preempt its waker), clock read around \
                        the call alone; switches: the waker's own across its wake calls
                        """)
        let wokenPerWake = kept > 0 ? c[.woken] / kept : 0
        // Two state checks per sample (each task's first wake): counted back from the per-op rates.
        func count(_ p: WakeSleepPair.Part) -> Double {
            m.partsPerOp.reduce(0) { $0 + $1[p.rawValue] / $1[WakeSleepPair.Part.one.rawValue] }.rounded()
        }
        let checks = count(.checks), sawS = count(.sawSleeping), sawR = count(.sawRunnable)
        w.setFact(Self.wokenKey, wokenPerWake)
        w.setFact(Self.stateChecksKey, checks)
        w.setFact(Self.waiterBeforeKey, checks > 0 && sawS == checks ? "S" : "S in \(Int(sawS)) of \(Int(checks))")
        w.setFact(Self.waiterAfterKey, checks > 0 && sawR == checks ? "R" : "R in \(Int(sawR)) of \(Int(checks))")
        if let sw = wakeSw, sw > 0.001 { w.invalidate(String(format: "the waker switched %.4f times per wake call, expected 0", sw)) }
        if abs(wokenPerWake - 1) > 0.001 { w.invalidate(String(format: "FUTEX_WAKE woke %.4f waiters per call, expected 1", wokenPerWake)) }
        if checks == 0 || sawS != checks || sawR != checks {
            w.invalidate("the waiter was not seen S before and R after every checked wake (/proc/<tid>/stat)")
        }
        var n = row("wake_none", none, switches: wakeSw, expected: 0,
                    note: "FUTEX_WAKE on the same word right after, the waiter already woken: no waiter (the same loop as \(k)_wake)")
        n.setFact(Self.wokenKey, kept > 0 ? c[.wokenNone] / kept : 0)
        if c[.wokenNone] > 0 { n.invalidate("FUTEX_WAKE with no waiter woke a task") }
        var p = row("wake_path", path, switches: nil, expected: nil,
                    note: "per sample, \(k)_wake − \(k)_wake_none: the wake-up path (try_to_wake_up: the task put back on the run queue)", flagNoisy: false)
        for why in [w, n].filter({ !$0.valid }).map(\.metric) { p.invalidate("\(why) is invalid") }
        let sleepSw = kept > 0 ? c[.sleepSwitches] / kept : nil
        var sl = row("sleep", m.perOp, switches: sleepSw, expected: 1,
                     note: """
                         from the sleeper's clock read before FUTEX_WAIT to the woken task's read after its own FUTEX_WAIT returned (\(two), one CPU): going \
                         to sleep, leaving the run queue, the pick, the switch, the return; switches: the sleeper's own across its sleep
                         """)
        if let sw = sleepSw, abs(sw - 1) > 0.001 { sl.invalidate(String(format: "the sleeper switched %.4f times per sleep, expected 1", sw)) }
        if c[.disorder] > 0 { sl.invalidate("a sleep ended before the sleeper had gone to sleep (it was preempted first)") }
        return [w, n, p, sl]
    }
}
