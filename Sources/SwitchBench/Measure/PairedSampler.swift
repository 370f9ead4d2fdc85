/// One side of a paired measurement: a batch that times itself (as for `Sampler.runTimed`) and the
/// counter of its own tasks' switches.
public struct PairSide {
    public var counter: SwitchCounter?
    public var batch: (Int) throws -> TimedSample
    public init(counter: SwitchCounter? = nil, batch: @escaping (Int) throws -> TimedSample) {
        self.counter = counter
        self.batch = batch
    }
}

/// What `Sampler.runPaired` measured: each side's samples, and per pair the ratio and the difference.
public struct PairedMeasured: Sendable {
    /// Side A's and side B's per-op samples, in pair order (pair i: a.perOp[i] and b.perOp[i]).
    public var a: Measured
    public var b: Measured
    /// a ÷ b of each kept pair.
    public var ratios: [Double]
    /// a − b of each kept pair (ns per op).
    public var differences: [Double]
    /// Kept pairs in which A ran first (the order is drawn at random for each pair).
    public var aFirst: Int
    public var pairs: Int { ratios.count }

    /// The fact a row made from pairs carries: how many pairs its values come from.
    public static let pairsKey = "pairs"
}

extension Sampler {
    /// Randomized interleaved trials (Abedi & Brecht, ICPE 2017): the two sides of a comparison are
    /// sampled in alternating rounds, a pair at a time, the order inside each pair drawn at random.
    /// A slow phase of the host that lasts longer than a pair (milliseconds; the phases seen here last
    /// from tens of milliseconds to minutes) slows both samples of the pair alike, so it cancels in the
    /// pair's ratio and difference, while it moves each side's own median.
    ///
    /// Each side's batch is calibrated on its own (both samples of a pair last ≥ minSampleNs). A pair
    /// in which either sample was preempted is taken again, both halves, with both batches halved
    /// (as in `runTimed`), at most `retakeFactor` × samples times.
    public static func runPaired(_ config: SamplerConfig, a: PairSide, b: PairSide,
                                 seed: UInt64 = monotonicNanoseconds()) throws -> PairedMeasured {
        let calA = try calibrate(config, a.batch)
        let calB = try calibrate(config, b.batch)
        for _ in 0..<config.warmup {
            _ = try a.batch(calA)
            _ = try b.batch(calB)
        }
        var rng = SplitMix64(seed: seed)
        var sideA = TimedSeries(calibrated: calA, samples: config.samples)
        var sideB = TimedSeries(calibrated: calB, samples: config.samples)
        var budget = RetakeBudget(config)
        var aFirst = 0
        try a.counter?.start()
        try b.counter?.start()
        let cheap = (a.counter?.cheapToRead ?? true) && (b.counter?.cheapToRead ?? true)
        while sideA.perOp.count < config.samples {
            let before = cheap ? (a.counter?.sinceStart(), b.counter?.sinceStart()) : (nil, nil)
            let first = rng.next() & 1 == 0
            let sa: TimedSample, sb: TimedSample
            if first {
                sa = try a.batch(sideA.n)
                sb = try b.batch(sideB.n)
            } else {
                sb = try b.batch(sideB.n)
                sa = try a.batch(sideA.n)
            }
            sideA.saw(sa)
            sideB.saw(sb)
            if sa.preempted || sb.preempted, budget.retake() {
                let after = cheap ? (a.counter?.sinceStart(), b.counter?.sinceStart()) : (nil, nil)
                sideA.retake(sa, switchesBefore: before.0, after: after.0)
                sideB.retake(sb, switchesBefore: before.1, after: after.1)
                continue
            }
            if first { aFirst += 1 }
            sideA.keep(sa)
            sideB.keep(sb)
        }
        let measuredA = sideA.measured(switches: try a.counter?.stop(), budget)
        let measuredB = sideB.measured(switches: try b.counter?.stop(), budget)
        let (perA, perB) = (measuredA.perOp, measuredB.perOp)
        return PairedMeasured(a: measuredA, b: measuredB,
                              ratios: zip(perA, perB).map { $0 / $1 }, differences: zip(perA, perB).map { $0 - $1 },
                              aFirst: aFirst)
    }
}
