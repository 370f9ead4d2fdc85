import CSwitchBench
import Glibc

/// How many samples to take and how long each lasts.
public struct SamplerConfig: Sendable, Equatable {
    /// Timed samples kept for statistics.
    public var samples: Int
    /// Samples taken first and discarded (caches, TLB, frequency, lazy faults settle).
    public var warmup: Int
    /// A sample's batch is calibrated to last at least this long.
    public var minSampleNs: UInt64

    public init(samples: Int, warmup: Int, minSampleNs: UInt64) {
        self.samples = samples
        self.warmup = warmup
        self.minSampleNs = minSampleNs
    }

    /// Default: 31 samples of ≥ 5 ms after 5 warm-up samples.
    public static let standard = SamplerConfig(samples: 31, warmup: 5, minSampleNs: 5_000_000)
    /// --quick: 11 samples of ≥ 2 ms after 2 warm-up samples.
    public static let quick = SamplerConfig(samples: 11, warmup: 2, minSampleNs: 2_000_000)
}

/// One timed sample as a batch reports it: the time of its ops, and what it saw of preemption
/// over a window that contains them (docs/busy-machines.md).
public struct TimedSample: Sendable, Equatable {
    /// Nanoseconds the n timed ops took (monotonic clock around them).
    public var ns: UInt64
    /// Wall time of the window checked for preemption; it contains the timed ops.
    public var spanNs: UInt64
    /// spanNs minus the CPU time the row's own tasks consumed in the window (CLOCK_THREAD_CPUTIME_ID
    /// of each, read at the window's edges): time something else had the CPU. nil where the row's
    /// tasks may legitimately sit idle (then this difference is the wait being measured).
    public var stolenNs: UInt64?
    /// Involuntary context switches of the row's tasks in the window (getrusage(RUSAGE_THREAD)
    /// ru_nivcsw of each); nil where not checked.
    public var involuntarySwitches: UInt64?
    /// Ops run in the window but outside the timed region (a ring's edge laps): the switch counter sees them.
    public var extraOps: Int
    /// Other sums of nanoseconds the same n ops gave (a batch that times several parts of each op):
    /// kept or retaken with `ns`, per op in `Measured.partsPerOp`.
    public var parts: [UInt64] = []

    public init(ns: UInt64, spanNs: UInt64? = nil, stolenNs: UInt64? = nil, involuntarySwitches: UInt64? = nil,
                extraOps: Int = 0) {
        self.ns = ns
        self.spanNs = spanNs ?? ns
        self.stolenNs = stolenNs
        self.involuntarySwitches = involuntarySwitches
        self.extraOps = extraOps
    }

    /// Share of the window that was stolen (0 when not measured).
    public var stolenFraction: Double? {
        stolenNs.map { spanNs > 0 ? Double($0) / Double(spanNs) : 0 }
    }

    /// True when the sample contains time the row's tasks did not spend running: stolen time above
    /// `Sampler.allowedStolen(spanNs)`, or any involuntary switch of a task.
    public var preempted: Bool {
        if let s = stolenNs, s > Sampler.allowedStolen(spanNs) { return true }
        if let v = involuntarySwitches, v > 0 { return true }
        return false
    }
}

/// How `Sampler.run` checks a batch that runs on the calling thread.
public enum PreemptionCheck: Sendable, Equatable {
    /// The thread runs for the whole batch and never waits (syscalls, coroutines, memory walks):
    /// stolen = wall − the thread's CPU time (CLOCK_THREAD_CPUTIME_ID before and after).
    case threadCPU
    /// The batch creates tasks and waits for them (fork + waitpid, pthread_create + join), everything
    /// pinned to one CPU: that CPU never idles in the batch, so stolen = wall − the CPU time of this
    /// process (every thread, exited ones too: CLOCK_PROCESS_CPUTIME_ID) and of the children it reaped
    /// (getrusage(RUSAGE_CHILDREN)). Other threads of the process that run elsewhere meanwhile hide
    /// stolen time (never add it): retakes can only be missed, not made up.
    case processAndChildrenCPU
    /// The batch waits for other tasks (a pool thread) on purpose, so neither its CPU time nor its
    /// switches tell preemption from waiting: not checked, never retaken.
    case none
}

/// What the sampler measured for one case.
public struct Measured: Sendable {
    /// Nanoseconds per op, one value per timed sample.
    public var perOp: [Double]
    /// Ops in the first timed sample (samples after a retake may be shorter: see `Sampler`).
    public var opsPerSample: Int
    /// Kernel context switches over all timed samples, when a counter was given and worked.
    public var switches: UInt64?
    public var totalOps: Int
    /// perf counts over all timed samples (every event of the CounterSet given, nil values where n/a).
    public var counts: [CounterReading] = []
    /// Samples taken again because they were preempted (`TimedSample.preempted`).
    public var retaken = 0
    /// Stolen share of every timed sample taken (kept and retaken), where the batch measures it.
    public var stolenFractions: [Double] = []
    /// The retake budget (3 × samples) ran out: some kept samples were preempted.
    public var retakesExhausted = false
    /// Whether preemption was checked at all (false: `PreemptionCheck.none`).
    public var checked = true
    /// Per op, for each kept sample, its `TimedSample.parts` (empty where the batch gave none).
    public var partsPerOp: [[Double]] = []
    /// Whether `Sampler.runTimed`'s `between` ran after every timed sample (its switches left out).
    public var interleaved = false

    public init(perOp: [Double], opsPerSample: Int, switches: UInt64?, totalOps: Int) {
        self.perOp = perOp
        self.opsPerSample = opsPerSample
        self.switches = switches
        self.totalOps = totalOps
    }

    public var switchesPerOp: Double? {
        switches.map { totalOps > 0 ? Double($0) / Double(totalOps) : 0 }
    }

    /// Median of `stolenFractions`: the CSV's stolen_fraction. nil when not measured.
    public var stolenFraction: Double? {
        stolenFractions.isEmpty ? nil : Statistics(stolenFractions).median
    }
}

/// Warm-up, batch calibration and timed samples: the one timing loop every harness goes through.
/// The harness supplies `batch(n)`, which performs n ops; the sampler reads the monotonic clock
/// around each call, so the timed region is exactly the n ops.
///
/// Preempted samples do not count: a timed sample whose batch reports preemption
/// (`TimedSample.preempted`) is taken again, and the batch is halved for the next one (down to
/// 1/8 of the calibrated size), since under load shorter samples fit between the other tasks' time
/// slices. At most `retakeFactor` × samples retakes; after that the preempted samples are kept and
/// `Measured.retakesExhausted` is set (the row is then invalid: `Record.applySampling`).
public enum Sampler {
    /// Retakes allowed per case, as a multiple of the samples.
    public static let retakeFactor = 3
    /// A sample may contain this much stolen time and still count: 2 % of its window plus 10 µs
    /// (timer ticks, interrupts, and the few hand-offs at a ring's window edges that no task's clock
    /// covers). A time slice given to another task is 0.75 ms or more, far above it.
    public static func allowedStolen(_ spanNs: UInt64) -> UInt64 { spanNs / 50 + 10_000 }
    /// Shortest batch after retakes, as a fraction of the calibrated one.
    public static let shortestBatchDivisor = 8

    /// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
    @inline(__always)
    public static func threadCPUNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// CPU time of this process (all threads) plus its reaped children.
    public static func processAndChildrenCPUNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec) &+ sb_reaped_children_cpu_ns()
    }

    /// Calibrate: grow n until one batch lasts minSampleNs, twice in a row, so that a cold first
    /// batch (tasks still starting, caches cold) cannot leave n tiny. A preempted batch does not count.
    static func calibrate(_ config: SamplerConfig, _ timedBatch: (Int) throws -> TimedSample) throws -> Int {
        _ = try timedBatch(1)
        var n = 1
        var longEnough = 0
        var calibrationTries = 0
        while longEnough < 2 {
            let s = try timedBatch(n)
            calibrationTries += 1
            let dt = max(s.ns, 1)
            if dt >= config.minSampleNs {
                if !s.preempted || calibrationTries > 50 { longEnough += 1 }
                continue
            }
            longEnough = 0
            let factor = Double(config.minSampleNs) * 1.25 / Double(dt)
            n = Int(Double(n) * min(max(factor, 2), 1000))
        }
        return n
    }

    public static func run(_ config: SamplerConfig, counter: SwitchCounter? = nil, counters: CounterSet? = nil,
                           check: PreemptionCheck = .threadCPU, between: (() throws -> Void)? = nil,
                           batch: (Int) throws -> Void) throws -> Measured {
        var m = try runTimed(config, counter: counter, counters: counters, between: between, timedBatch: { n in
            guard check != .none else {
                let t0 = monotonicNanoseconds()
                try batch(n)
                return TimedSample(ns: monotonicNanoseconds() - t0)
            }
            let c0 = check == .threadCPU ? threadCPUNanoseconds() : processAndChildrenCPUNanoseconds()
            let t0 = monotonicNanoseconds()
            try batch(n)
            let t1 = monotonicNanoseconds()
            let c1 = check == .threadCPU ? threadCPUNanoseconds() : processAndChildrenCPUNanoseconds()
            let wall = t1 - t0, cpu = c1 &- c0
            return TimedSample(ns: wall, stolenNs: wall > cpu ? wall - cpu : 0)
        })
        if check == .none { m.checked = false }
        return m
    }

    /// The same, for a batch that times itself and reports what it saw of preemption (a ring whose
    /// tasks read their own CPU clocks, or a batch that runs in another process).
    ///
    /// - counters: perf events counted over the timed samples (`Measured.counts`).
    /// - between: run after every timed sample, outside it (a ring's stamped laps, interleaved with its
    ///   batches so that both see the same phases of the host). Its switches are left out of the count,
    ///   as a retaken sample's are; it is called only where they can be (`SwitchCounter.cheapToRead`),
    ///   and `Measured.interleaved` says whether it was.
    public static func runTimed(_ config: SamplerConfig, counter: SwitchCounter? = nil, counters: CounterSet? = nil,
                                between: (() throws -> Void)? = nil,
                                timedBatch: (Int) throws -> TimedSample) throws -> Measured {
        let calibrated = try calibrate(config, timedBatch)
        for _ in 0..<config.warmup { _ = try timedBatch(calibrated) }

        var series = TimedSeries(calibrated: calibrated, samples: config.samples)
        var budget = RetakeBudget(config)
        try counter?.start()
        counters?.start()
        // Switches of retaken samples are left out of the count, as their time is: the preemption
        // that made them retaken is itself a switch (read between samples where that is cheap).
        let perSample = counter?.cheapToRead == true ? counter : nil
        while series.perOp.count < config.samples {
            let before = perSample?.sinceStart()
            let s = try timedBatch(series.n)
            let after = perSample?.sinceStart()
            series.saw(s)
            if s.preempted, budget.retake() {
                series.retake(s, switchesBefore: before, after: after)
            } else {
                series.keep(s)
            }
            if let between, let perSample {
                let b0 = perSample.sinceStart()
                try between()
                series.exclude(switchesBefore: b0, after: perSample.sinceStart())
            }
        }
        counters?.stop()
        var m = series.measured(switches: try counter?.stop(), budget)
        m.counts = counters?.read() ?? []
        m.interleaved = between != nil && perSample != nil
        return m
    }
}

/// The retake budget of one case, shared by every side of it: at most `Sampler.retakeFactor` ×
/// samples retakes; a preempted sample past that is kept, and the case says the budget ran out.
struct RetakeBudget {
    let limit: Int
    private(set) var retaken = 0
    private(set) var exhausted = false

    init(_ config: SamplerConfig) { limit = Sampler.retakeFactor * config.samples }

    /// Whether a preempted sample may be taken again (counted when it may; else the budget is spent).
    mutating func retake() -> Bool {
        if retaken < limit {
            retaken += 1
            return true
        }
        exhausted = true
        return false
    }
}

/// One side's timed samples as `Sampler.runTimed` and `Sampler.runPaired` keep them: the batch size
/// (the calibrated one, halved after each retake down to 1/`shortestBatchDivisor` of it), the per-op
/// values kept, the ops counted, every sample's stolen share, and the switches of retaken samples (and of what ran between
/// samples), which are left out of the count where they could be read.
struct TimedSeries {
    let calibrated: Int
    let shortest: Int
    /// The batch size of the next sample.
    private(set) var n: Int
    private(set) var perOp: [Double] = []
    private(set) var partsPerOp: [[Double]] = []
    private(set) var stolen: [Double] = []
    private(set) var totalOps = 0
    private(set) var leftOutSwitches: UInt64 = 0

    init(calibrated: Int, samples: Int) {
        self.calibrated = calibrated
        shortest = max(1, calibrated / Sampler.shortestBatchDivisor)
        n = calibrated
        perOp.reserveCapacity(samples)
    }

    /// Every sample taken, kept or retaken: its stolen share, where the batch measured it.
    mutating func saw(_ s: TimedSample) {
        if let f = s.stolenFraction { stolen.append(f) }
    }

    /// A preempted sample taken again: its switches (the counter read before and after it) are left out
    /// of the count, or, where they could not be read, its ops are counted with the rest; the next batch is halved.
    mutating func retake(_ s: TimedSample, switchesBefore before: UInt64?, after: UInt64?) {
        if let before, let after, after >= before {
            leftOutSwitches += after - before
        } else {
            totalOps += n + s.extraOps   // counted with the rest when it cannot be left out
        }
        n = max(shortest, n / 2)
    }

    /// Switches made between two samples, outside both (`Sampler.runTimed`'s `between`): left out of the count.
    mutating func exclude(switchesBefore before: UInt64?, after: UInt64?) {
        if let before, let after, after >= before { leftOutSwitches += after - before }
    }

    mutating func keep(_ s: TimedSample) {
        totalOps += n + s.extraOps
        perOp.append(Double(s.ns) / Double(n))
        if !s.parts.isEmpty { partsPerOp.append(s.parts.map { Double($0) / Double(n) }) }
    }

    /// The side's `Measured`: `all` is its counter's switches over every sample, retaken ones included.
    func measured(switches all: UInt64?, _ budget: RetakeBudget) -> Measured {
        let switches = all.map { $0 >= leftOutSwitches ? $0 - leftOutSwitches : 0 }
        var m = Measured(perOp: perOp, opsPerSample: calibrated, switches: switches, totalOps: totalOps)
        m.retaken = budget.retaken
        m.stolenFractions = stolen
        m.partsPerOp = partsPerOp
        m.retakesExhausted = budget.exhausted
        return m
    }
}
