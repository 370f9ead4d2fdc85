/// A knee of a cost curve: where the curve steps from one level to the next.
public struct Knee: Sendable, Equatable {
    /// The largest x still on the lower level (a TLB level's reach) and the first x on the upper one.
    public var lastBelow: Double
    public var firstAbove: Double
    /// Median y of the two levels (ns per access) and the step between them.
    public var lower: Double
    public var upper: Double
    /// The first x at or above three quarters of the step (a soft knee spreads from lastBelow to here).
    public var fullAt: Double
    public var step: Double { upper - lower }

    public init(lastBelow: Double, firstAbove: Double, lower: Double, upper: Double, fullAt: Double? = nil) {
        self.lastBelow = lastBelow
        self.firstAbove = firstAbove
        self.lower = lower
        self.upper = upper
        self.fullAt = fullAt ?? firstAbove
    }
}

/// Knee detection on a curve sampled at increasing x (working-set pages), by binary segmentation:
/// the curve is smoothed with a running median of three; the split into two constant levels
/// (least absolute deviations about each side's median, so one bad point cannot pull a level)
/// that fits best is a knee when the step up is at least `minStep` (ns), four times the noise of
/// that stretch and `relativeStep` of the lower level; each side is then searched again. Big steps far right cannot hide a small one
/// at the left, as they would in one global fit. At most `maxKnees`, the leftmost, in x order.
/// A flat or falling curve has no knee.
public enum KneeDetector {
    public static func knees(x: [Double], y: [Double], maxKnees: Int = 4, minStep: Double = 1.0,
                             relativeStep: Double = 0.25) -> [Knee] {
        precondition(x.count == y.count)
        guard y.count >= 4 else { return [] }
        let s = smooth(y)
        var found: [Knee] = []
        func search(_ range: Range<Int>) {
            guard range.count >= 4 else { return }
            var bestCost = Double.infinity, bestSplit = -1
            for i in (range.lowerBound + 2)...(range.upperBound - 2) {
                let c = deviation(s[range.lowerBound..<i]) + deviation(s[i..<range.upperBound])
                if c < bestCost { bestCost = c; bestSplit = i }
            }
            guard bestSplit > 0 else { return }
            let lower = median(Array(s[range.lowerBound..<bestSplit])), upper = median(Array(s[bestSplit..<range.upperBound]))
            let noise = 1.4826 * median(range.map { abs(y[$0] - s[$0]) })
            guard upper - lower >= max(minStep, 4 * noise, relativeStep * abs(lower)) else { return }
            found.append(Knee(lastBelow: x[bestSplit - 1], firstAbove: x[bestSplit], lower: lower, upper: upper))
            search(range.lowerBound..<bestSplit)
            search(bestSplit..<range.upperBound)
        }
        search(0..<y.count)
        return merge(found.sorted { $0.lastBelow < $1.lastBelow }, x: x, s: s, maxKnees: maxKnees)
    }

    /// Knees whose level between them spans less than `narrow` (a factor in x) are one transition
    /// (a soft knee: set conflicts, pseudo-LRU); each transition's levels are the medians of the
    /// stretches around it, and its reach is the last x before the curve first rises a quarter of
    /// the step above the lower level. The leftmost maxKnees are kept (TLB levels come first; far right the page
    /// walks just keep slowing).
    static func merge(_ knees: [Knee], x: [Double], s: [Double], maxKnees: Int, narrow: Double = 1.5) -> [Knee] {
        var zones: [(start: Double, end: Double)] = []
        for k in knees {
            if let last = zones.last, k.lastBelow / last.end < narrow {
                zones[zones.count - 1].end = k.firstAbove
            } else {
                zones.append((k.lastBelow, k.firstAbove))
            }
        }
        zones = Array(zones.prefix(maxKnees))
        func level(after lo: Double?, upTo hi: Double?) -> Double {
            median(zip(x, s).filter { (lo == nil || $0.0 >= lo!) && (hi == nil || $0.0 <= hi!) }.map(\.1))
        }
        var result: [Knee] = []
        for (i, z) in zones.enumerated() {
            let lower = level(after: i == 0 ? nil : zones[i - 1].end, upTo: z.start)
            let upper = level(after: z.end, upTo: i + 1 < zones.count ? zones[i + 1].start : nil)
            let limit = lower + 0.25 * (upper - lower)
            // The reach: the last point before the (smoothed) curve first crosses a quarter of the
            // step, looking from the end of the previous transition.
            let from = i == 0 ? 0 : (x.firstIndex(of: zones[i - 1].end) ?? 0)
            let cross = (from..<x.count).first { s[$0] > limit && x[$0] <= z.end } ?? x.firstIndex(of: z.end)!
            let reachIndex = max(from, cross - 1)
            let full = (reachIndex..<x.count).first { s[$0] >= lower + 0.75 * (upper - lower) } ?? x.count - 1
            result.append(Knee(lastBelow: x[reachIndex], firstAbove: x[min(reachIndex + 1, x.count - 1)],
                               lower: lower, upper: upper, fullAt: x[full]))
        }
        return result
    }

    static func deviation(_ v: ArraySlice<Double>) -> Double {
        let m = median(Array(v))
        return v.reduce(0) { $0 + abs($1 - m) }
    }

    /// Running median of three (the ends kept).
    public static func smooth(_ y: [Double]) -> [Double] {
        guard y.count >= 3 else { return y }
        var out = y
        for i in 1..<(y.count - 1) { out[i] = median([y[i - 1], y[i], y[i + 1]]) }
        return out
    }

    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        return Statistics.quantile(v.sorted(), 0.5)
    }
}
