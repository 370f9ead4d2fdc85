import Foundation

/// Per hand-off latency (docs/methodology.md, "One hand-off at a time"): between the batch samples
/// (a chunk after each), the ring passes a stamp token instead of the plain one; the waker stamps the clock right before it
/// wakes, the wakee right after its wait returns (`Stamps`). Two-task rings give three rows:
///   hand_off_ab          task 0 → task 1, one way
///   hand_off_ba          task 1 → task 0, one way
///   hand_off_round_trip  task 0's send to its own receipt of the token back
/// each with a distribution (`LatencySummary`) and, for the slowest hand-offs, what the kernel
/// recorded between their stamps (`TailTrace`). The stamps never run inside the batch's timed laps;
/// interleaved with them, both see the same phases of the host (their switches are left out of the count).
/// The distribution comes from untraced hand-offs: recording sched_switch costs every switch
/// (measured here: p50 5–10 % higher with the trace on, 15–31 % on one CPU with the ring's own events
/// recorded for `HandOffSplit`), so the causes come from a second,
/// shorter, traced run of the same ring — the slowest hand-offs of that run.
extension TokenRingHarness {
    public static let latencyMetrics = ["hand_off_ab", "hand_off_ba", "hand_off_round_trip"]

    /// Hand-offs stamped per case: 200 000, 100 000 each way, so that a one-way p99.9 rests on 100
    /// slower ones (10 000 with --quick); at most `stampLimitNs` of stamping per case, so that slow
    /// (cross-cpu) hand-offs keep `--all` in its budget: those rows say how many they got.
    static func stampTarget(_ o: RunOptions) -> Int { o.quick ? 10_000 : 200_000 }
    static func stampLimitNs(_ o: RunOptions) -> UInt64 { o.quick ? 120_000_000 : 1_000_000_000 }
    /// Hand-offs of the traced run, per case (those slower than the row's p99.9 get a cause).
    static func tracedTarget(_ o: RunOptions) -> Int { o.quick ? 4_000 : 20_000 }
    /// Where fewer of the traced hand-offs are slower than the row's p99.9, its slowest this many get a cause.
    static let slowestExamined = 10

    /// The stamped phase, traced where the kernel lets us (`TailTrace`).
    struct HandOffRun {
        var stamps: RingInstance.HandOffStamps
        var clock: StampClock
        /// The traced run's stamps and what the kernel recorded meanwhile; nil with the reason when not traced.
        var traced: RingInstance.HandOffStamps?
        var recording: TailTrace.Recording?
        var traceUnavailable: String?
    }

    /// The stamped hand-offs (interleaved with the batches), then the traced run where the kernel lets us (`TailTrace`).
    static func stampPhase(_ ring: RingInstance, stamps: RingInstance.HandOffStamps, options: RunOptions) throws -> HandOffRun {
        let clock = StampClock.shared
        let cpus = Set(ring.taskCPUs)
        // The ring's tasks exist now: their ids filter their own switches out of the trace.
        switch TailTrace.start(ringPIDs: ring.taskIDs, cpus: cpus, clock: clock) {
        case .unavailable(let why):
            // What an unprivileged reader can say of the stamped laps, beside the reason.
            return HandOffRun(stamps: stamps, clock: clock, traced: nil, recording: nil, traceUnavailable: why + "; " + stamps.window.summary)
        case .started(let t):
            let traced: RingInstance.HandOffStamps
            do {
                traced = try ring.stampHandOffs(tracedTarget(options), limitNs: stampLimitNs(options) / 5, readsWindow: false)
            } catch {
                _ = t.stop()
                throw error
            }
            return HandOffRun(stamps: stamps, clock: clock, traced: traced, recording: t.stop(), traceUnavailable: nil)
        }
    }

    /// (sent, recv) tick pairs of one row: every hand-off of one direction, or every lap.
    static func intervals(_ s: RingInstance.HandOffStamps, metric: String) -> [(sent: UInt64, recv: UInt64)] {
        let laps = s.sent.count / 2
        switch metric {
        case "hand_off_ab": return (0..<laps).map { (s.sent[2 * $0], s.recv[2 * $0]) }
        case "hand_off_ba": return (0..<laps).map { (s.sent[2 * $0 + 1], s.recv[2 * $0 + 1]) }
        default: return (0..<laps).map { (s.sent[2 * $0], s.recv[2 * $0 + 1]) }
        }
    }

    /// The bound on how far the two CPUs' clocks may differ, from the fastest hand-off each way:
    /// with θ = wakee clock − waker clock for A→B, min(A→B) ≥ θ and min(B→A) ≥ −θ, so
    /// −min(B→A) ≤ θ ≤ min(A→B); if the fastest hand-off takes as long each way, θ ≈ (min A→B − min B→A) / 2.
    static func skew(ab: [Double], ba: [Double]) -> (estimate: Double, low: Double, high: Double)? {
        guard let a = ab.min(), let b = ba.min() else { return nil }
        return ((a - b) / 2, -b, a)
    }

    /// The tail's causes of one row, from the traced run: its hand-offs slower than the row's own
    /// (untraced) p99.9 `threshold`; at least its slowest 10.
    static func causes(metric: String, run: HandOffRun, cpus: Set<Int>, threshold: Double) -> TailCauses {
        guard let rec = run.recording, let traced = run.traced else { return .notAvailable(run.traceUnavailable ?? "not traced") }
        // Where the buffer overwrote its oldest events, only the hand-offs after them.
        let intervals = intervals(traced, metric: metric).filter { $0.sent >= rec.since }
        let values = intervals.map { run.clock.ns(Int64(bitPattern: $0.recv &- $0.sent)) }
        guard let summary = LatencySummary(values) else { return .notAvailable("no traced hand-offs") }
        let order = values.indices.sorted { values[$0] > values[$1] }
        let above = order.prefix { values[$0] > threshold }.count
        let chosen = order.prefix(max(above, min(slowestExamined, values.count)))
        // An event found in most ordinary hand-offs (at or below the median: on a cross-CPU ring, the
        // wake-up's own function-call IPI) is part of every hand-off, not a cause of the slow ones.
        let ordinary = order.suffix(values.count / 2).map { intervals[$0] }
        let common = TailTrace.commonCauses(ordinary, events: rec.causes, cpus: cpus)
        let counts = TailTrace.attribute(chosen.map { intervals[$0] }, events: rec.causes.filter { !common.contains($0.cause) }, cpus: cpus)
        return TailCauses(examined: chosen.count, thresholdNs: chosen.last.map { values[$0] } ?? threshold,
                          counts: counts, source: "tracefs", unavailable: nil, traced: values.count,
                          tracedP50Ns: summary.percentile("p50")?.ns)
    }

    /// The latency rows of a two-task case; `like`: the case's round_trip row (its key, placement
    /// proof and validity carry over).
    static func latencyRecords(_ run: HandOffRun, like base: Record, taskCPUs: [Int]) -> [Record] {
        let c = run.clock
        let cpus: Set<Int> = Set(taskCPUs)
        var values: [String: [Double]] = [:]
        for m in latencyMetrics {
            values[m] = intervals(run.stamps, metric: m).map { c.ns(Int64(bitPattern: $0.recv &- $0.sent)) }
        }
        let handOffs = run.stamps.sent.count
        let sk = base.placement == Placement.crossCPU.rawValue ? skew(ab: values["hand_off_ab"]!, ba: values["hand_off_ba"]!) : nil
        return latencyMetrics.compactMap { m -> Record? in
            let v = values[m]!
            guard var r = latencyRecord(v, metric: m, like: base, clock: c, causes: { summary in
                causes(metric: m, run: run, cpus: cpus, threshold: summary.percentile("p99.9")?.ns ?? summary.maxNs)
            }) else { return nil }
            r.setFact("stamps_interleaved", run.stamps.interleaved ? "yes" : "no")
            // Switched out while runnable, over the stamped laps alone (RingInstance.StampRun's window).
            if handOffs > 0 { r.setFact("involuntary_per_hand_off", Double(run.stamps.window.involuntary) / Double(handOffs)) }
            if let sk {
                r.setFact("clock_skew_ns", sk.estimate)
                r.setFact("clock_skew_low_ns", sk.low)
                r.setFact("clock_skew_high_ns", sk.high)
            }
            if m != "hand_off_round_trip" { setParts(&r, metric: m, run: run) }
            return r
        }
    }

    /// One per hand-off row: `values` (ns, one per stamped hand-off) as a distribution under `base`'s
    /// key with `metric`, its clock facts, and the causes of its tail (`causes`, given the summary).
    /// Invalid when `base`, the batch row it is another measurement of, is.
    static func latencyRecord(_ values: [Double], metric: String, like base: Record, clock c: StampClock,
                              causes: (LatencySummary) -> TailCauses) -> Record? {
        guard var summary = LatencySummary(values) else { return nil }
        summary.causes = causes(summary)
        var r = Record(harness: base.harness, mechanism: base.mechanism, placement: base.placement, cpus: base.cpus,
                       tasks: base.tasks, footprintBytes: base.footprintBytes, metric: metric, samples: [], opsPerSample: 1,
                       cpusSeen: base.cpusSeen)
        r.samples = values.count
        r.stats = Statistics(values)
        r.latency = summary
        r.addNote(String(format: "%d stamped hand-offs; clock %@, a stamp costs %.1f ns (not subtracted)", values.count, c.label, c.costNs))
        r.setFact("stamp_clock", c.label)
        r.setFact("stamp_cost_ns", c.costNs)
        if !base.valid { r.invalidate("the case's batch row (\(base.metric)) is invalid") }
        return r
    }

    /// Where a one-way row's traced hand-offs spent their time (`HandOffSplit`): the `part_*` facts,
    /// or `parts_unavailable` with the reason (that of the causes).
    static func setParts(_ r: inout Record, metric: String, run: HandOffRun) {
        guard let rec = run.recording, let traced = run.traced, traced.tids.count == 2 else {
            // The reason alone (the window's /proc counts go with the causes).
            let why = (run.traceUnavailable ?? "not traced").components(separatedBy: "; ")[0]
            r.setFact("parts_unavailable", TailTrace.clean(why))
            return
        }
        guard !rec.wakeEvent.isEmpty else {
            r.setFact("parts_unavailable", "neither sched_waking nor sched_wakeup could be enabled")
            return
        }
        let wakee = Int(traced.tids[metric == "hand_off_ab" ? 1 : 0])
        let handOffs = intervals(traced, metric: metric).filter { $0.sent >= rec.since }
            .map { HandOffSplit.HandOff(sent: $0.sent, recv: $0.recv, wakee: wakee, waker: Int(traced.tids[metric == "hand_off_ab" ? 0 : 1])) }
        let c = run.clock
        let s = HandOffSplit.summary(HandOffSplit.split(handOffs, events: rec.ring), ns: { c.ns(Int64(bitPattern: $0)) })
        r.setFact("parts_split", Double(s.split))
        r.setFact("parts_no_waking", Double(s.noWaking))
        r.setFact("parts_no_switch_in", Double(s.noSwitchIn))
        for path in HandOffSplit.Path.allCases { r.setFact("parts_path_\(path.rawValue)", Double(s.paths[path] ?? 0)) }
        r.setFact("parts_wake_event", rec.wakeEvent)
        if rec.lost > 0 { r.setFact("parts_trace_lost_events", Double(rec.lost)) }
        // The traced run's window in CLOCK_MONOTONIC ns (what `perf record -k CLOCK_MONOTONIC` stamps, for a
        // check over the same window: scripts/experiments/hand-off-checks.sh timehist).
        r.setFact("parts_window_start_ns", String(traced.startNs))
        r.setFact("parts_window_end_ns", String(traced.endNs))
        for (name, v) in s.parts {
            r.setFact("part_\(name)_p50_ns", v.p50)
            r.setFact("part_\(name)_p99_ns", v.p99)
        }
    }
}
