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
                           discardPreempted: PerfCounter? = nil,
                           batch: (Int) throws -> Void) throws -> Measured {
        // Calibrate: grow n until one batch lasts minSampleNs.
        var n = 1
        while true {
            let t0 = monotonicNanoseconds()
            try batch(n)
            let dt = max(monotonicNanoseconds() - t0, 1)
            if dt >= config.minSampleNs { break }
            let factor = Double(config.minSampleNs) * 1.25 / Double(dt)
            n = Int(Double(n) * min(max(factor, 2), 1000))
        }
        for _ in 0..<config.warmup { try batch(n) }

        var perOp: [Double] = []
        perOp.reserveCapacity(config.samples)
        try counter?.start()
        counters?.start()
        // With discardPreempted (an enabled context-switches counter of this thread only), a sample
        // during which the thread was switched out is taken again, up to 3 × samples times: another
        // task's time slice inside a sample is not the cost being measured.
        var discarded = 0
        var batches = 0
        while perOp.count < config.samples {
            let before = discardPreempted?.read()?.value
            let t0 = monotonicNanoseconds()
            try batch(n)
            let t1 = monotonicNanoseconds()
            batches += 1
            if let c = discardPreempted, let b = before, let a = c.read()?.value, a > b, discarded < 3 * config.samples {
                discarded += 1
                continue
            }
            perOp.append(Double(t1 - t0) / Double(n))
        }
        counters?.stop()
        let switches = try counter?.stop()
        var m = Measured(perOp: perOp, opsPerSample: n, switches: switches, totalOps: n * batches)
        m.counts = counters?.read() ?? []
        m.discarded = discarded
        return m
    }
}
