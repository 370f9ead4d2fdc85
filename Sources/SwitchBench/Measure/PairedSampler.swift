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
        var nA = try calibrate(config, a.batch)
        var nB = try calibrate(config, b.batch)
        for _ in 0..<config.warmup {
            _ = try a.batch(nA)
            _ = try b.batch(nB)
        }
        let (calA, calB) = (nA, nB)
        var rng = SplitMix64(seed: seed)
        var perA: [Double] = [], perB: [Double] = [], stolenA: [Double] = [], stolenB: [Double] = []
        var opsA = 0, opsB = 0, retaken = 0, aFirst = 0
        var exhausted = false
        try a.counter?.start()
        try b.counter?.start()
        let cheap = (a.counter?.cheapToRead ?? true) && (b.counter?.cheapToRead ?? true)
        var retakenA: UInt64 = 0, retakenB: UInt64 = 0
        while perA.count < config.samples {
            let before = cheap ? (a.counter?.sinceStart(), b.counter?.sinceStart()) : (nil, nil)
            let first = rng.next() & 1 == 0
            let sa: TimedSample, sb: TimedSample
            if first {
                sa = try a.batch(nA)
                sb = try b.batch(nB)
            } else {
                sb = try b.batch(nB)
                sa = try a.batch(nA)
            }
            if let f = sa.stolenFraction { stolenA.append(f) }
            if let f = sb.stolenFraction { stolenB.append(f) }
            if sa.preempted || sb.preempted {
                if retaken < retakeFactor * config.samples {
                    retaken += 1
                    let after = cheap ? (a.counter?.sinceStart(), b.counter?.sinceStart()) : (nil, nil)
                    if let x0 = before.0, let x1 = after.0, x1 >= x0 { retakenA += x1 - x0 } else { opsA += nA + sa.extraOps }
                    if let y0 = before.1, let y1 = after.1, y1 >= y0 { retakenB += y1 - y0 } else { opsB += nB + sb.extraOps }
                    nA = max(1, calA / shortestBatchDivisor, nA / 2)
                    nB = max(1, calB / shortestBatchDivisor, nB / 2)
                    continue
                }
                exhausted = true
            }
            if first { aFirst += 1 }
            opsA += nA + sa.extraOps
            opsB += nB + sb.extraOps
            perA.append(Double(sa.ns) / Double(nA))
            perB.append(Double(sb.ns) / Double(nB))
        }
        let switchesA = try a.counter.map { c -> UInt64 in let v = try c.stop(); return v >= retakenA ? v - retakenA : 0 }
        let switchesB = try b.counter.map { c -> UInt64 in let v = try c.stop(); return v >= retakenB ? v - retakenB : 0 }
        func side(_ per: [Double], _ cal: Int, _ sw: UInt64?, _ ops: Int, _ stolen: [Double]) -> Measured {
            var m = Measured(perOp: per, opsPerSample: cal, switches: sw, totalOps: ops)
            m.retaken = retaken
            m.stolenFractions = stolen
            m.retakesExhausted = exhausted
            return m
        }
        return PairedMeasured(a: side(perA, calA, switchesA, opsA, stolenA), b: side(perB, calB, switchesB, opsB, stolenB),
                              ratios: zip(perA, perB).map { $0 / $1 }, differences: zip(perA, perB).map { $0 - $1 },
                              aFirst: aFirst)
    }
}
