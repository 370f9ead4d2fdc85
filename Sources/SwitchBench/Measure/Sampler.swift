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

/// What the sampler measured for one case.
public struct Measured: Sendable {
    /// Nanoseconds per op, one value per timed sample.
    public var perOp: [Double]
    public var opsPerSample: Int
    /// Kernel context switches over all timed samples, when a counter was given and worked.
    public var switches: UInt64?
    public var totalOps: Int
    /// perf counts over all timed samples (every event of the CounterSet given, nil values where n/a).
    public var counts: [CounterReading] = []
    /// Samples thrown away because the kernel switched the thread out during them (see `discardPreempted`).
    public var discarded = 0

    public var switchesPerOp: Double? {
        switches.map { totalOps > 0 ? Double($0) / Double(totalOps) : 0 }
    }
}

/// Warm-up, batch calibration and timed samples: the one timing loop every harness goes through.
/// The harness supplies `batch(n)`, which performs n ops; the sampler reads the monotonic clock
/// around each call, so the timed region is exactly the n ops.
public enum Sampler {
    public static func run(_ config: SamplerConfig, counter: SwitchCounter? = nil, counters: CounterSet? = nil,
                           discardPreempted: (() -> UInt64?)? = nil,
                           batch: (Int) throws -> Void) throws -> Measured {
        try runTimed(config, counter: counter, counters: counters, discardPreempted: discardPreempted, timedBatch: { n in
            let t0 = monotonicNanoseconds()
            try batch(n)
            return monotonicNanoseconds() - t0
        })
    }

    /// The same, for a batch that times itself (it runs in another process and reports the
    /// nanoseconds its n ops took, measured with the same monotonic clock around them).
    ///
    /// - counters: perf events counted over the timed samples (`Measured.counts`).
    /// - discardPreempted: reads this thread's context-switch count (an enabled perf `context-switches`
    ///   counter, or /proc); a sample during which it moved (the thread was switched out) is taken
    ///   again, up to 3 × samples times: another task's time slice inside a sample is not the cost
    ///   being measured. Read outside the timed region.
    public static func runTimed(_ config: SamplerConfig, counter: SwitchCounter? = nil, counters: CounterSet? = nil,
                                discardPreempted: (() -> UInt64?)? = nil,
                                timedBatch: (Int) throws -> UInt64) throws -> Measured {
        // Calibrate: grow n until one batch lasts minSampleNs, twice in a row, so that a cold first
        // batch (tasks still starting, caches cold) cannot leave n tiny.
        _ = try timedBatch(1)
        var n = 1
        var longEnough = 0
        while longEnough < 2 {
            let dt = max(try timedBatch(n), 1)
            if dt >= config.minSampleNs {
                longEnough += 1
                continue
            }
            longEnough = 0
            let factor = Double(config.minSampleNs) * 1.25 / Double(dt)
            n = Int(Double(n) * min(max(factor, 2), 1000))
        }
        for _ in 0..<config.warmup { _ = try timedBatch(n) }

        var perOp: [Double] = []
        perOp.reserveCapacity(config.samples)
        try counter?.start()
        counters?.start()
        var discarded = 0
        var batches = 0
        while perOp.count < config.samples {
            let before = discardPreempted?()
            let dt = try timedBatch(n)
            batches += 1
            if let read = discardPreempted, let b = before, let a = read(), a > b, discarded < 3 * config.samples {
                discarded += 1
                continue
            }
            perOp.append(Double(dt) / Double(n))
        }
        counters?.stop()
        let switches = try counter?.stop()
        var m = Measured(perOp: perOp, opsPerSample: n, switches: switches, totalOps: n * batches)
        m.counts = counters?.read() ?? []
        m.discarded = discarded
        return m
    }
}
