import Foundation

/// A log-linear histogram of latencies in ns (HdrHistogram's and fio's layout): every power of two
/// split into `subBuckets` equal buckets, so a bucket's width is at most 1/64 of its lower bound and
/// its midpoint is within 1/128 (0.78 %) of any value in it. Values below 1 ns (and negative
/// differences of two clocks) go to the first buckets, [0, 1) split linearly.
public struct LatencyHistogram: Sendable, Equatable, Codable {
    public static let subBuckets = 64
    /// Powers of two covered: up to 2^40 ns (18 minutes); larger values land in the last bucket.
    public static let maxExponent = 40
    public static var bucketCount: Int { (maxExponent + 1) * subBuckets }

    /// Non-empty buckets only: index → count.
    public private(set) var counts: [Int: Int] = [:]
    public private(set) var total = 0

    public init() {}
    public init(_ values: [Double]) { for v in values { add(v) } }

    /// JSON: the layout and the non-empty buckets as [lower ns, upper ns, count].
    enum CodingKeys: String, CodingKey { case subBuckets = "sub_buckets", buckets }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.subBuckets, forKey: .subBuckets)
        try c.encode(buckets.map { b -> [Double] in let (l, u) = Self.bounds(b.index); return [l, u, Double(b.count)] }, forKey: .buckets)
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for b in try c.decode([[Double]].self, forKey: .buckets) where b.count == 3 {
            add((b[0] + b[1]) / 2, count: Int(b[2]))
        }
    }

    public static func index(_ v: Double) -> Int {
        let s = Double(subBuckets)
        guard v >= 1 else { return v <= 0 ? 0 : min(subBuckets - 1, Int(v * s)) }
        let e = min(maxExponent - 1, Int(log2(v).rounded(.down)))
        let base = pow(2.0, Double(e))
        let sub = min(subBuckets - 1, Int((v / base - 1) * s))
        return min(bucketCount - 1, (e + 1) * subBuckets + sub)
    }

    /// [lower, upper) of a bucket, ns.
    public static func bounds(_ i: Int) -> (Double, Double) {
        let s = Double(subBuckets)
        if i < subBuckets { return (Double(i) / s, Double(i + 1) / s) }
        let e = Double(i / subBuckets - 1), sub = Double(i % subBuckets)
        let base = pow(2.0, e)
        return (base * (1 + sub / s), base * (1 + (sub + 1) / s))
    }

    /// The value a bucket stands for: its midpoint.
    public static func midpoint(_ i: Int) -> Double { let (l, u) = bounds(i); return (l + u) / 2 }

    public mutating func add(_ v: Double, count: Int = 1) {
        counts[Self.index(v), default: 0] += count
        total += count
    }

    /// Buckets in order, with their midpoints.
    public var buckets: [(index: Int, midpoint: Double, count: Int)] {
        counts.keys.sorted().map { ($0, Self.midpoint($0), counts[$0]!) }
    }

    /// "index:count index:count …" (the `latency_histogram` CSV column).
    public var text: String { counts.keys.sorted().map { "\($0):\(counts[$0]!)" }.joined(separator: " ") }

    public static func parse(_ text: String) -> LatencyHistogram? {
        var h = LatencyHistogram()
        for pair in text.split(separator: " ") {
            let p = pair.split(separator: ":")
            guard p.count == 2, let i = Int(p[0]), let c = Int(p[1]), i >= 0, i < bucketCount, c > 0 else { return nil }
            h.counts[i, default: 0] += c
            h.total += c
        }
        return h.total == 0 ? nil : h
    }
}

/// One percentile of a distribution: its value, how many hand-offs were slower, and a 95 %
/// confidence interval from order statistics (the ranks between which the true quantile lies with
/// probability 0.95 under the binomial distribution of the number of samples below it, in its normal
/// approximation); nil bounds where the sample is too small for one.
public struct Percentile: Sendable, Equatable, Codable {
    /// "p50", "p90", "p99", "p99.9", "p99.99".
    public var name: String
    public var q: Double
    public var ns: Double
    /// Samples strictly above `ns`.
    public var above: Int
    public var ci95Low: Double?
    public var ci95High: Double?

    public static let standard: [(String, Double)] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999), ("p99.99", 0.9999)]

    /// From ascending samples. The point value is the sample of rank ⌈nq⌉ (1-based).
    public static func of(sorted s: [Double], name: String, q: Double) -> Percentile? {
        let n = s.count
        guard n > 0 else { return nil }
        let k = max(0, min(n - 1, Int((Double(n) * q).rounded(.up)) - 1))
        let v = s[k]
        var above = 0
        var j = n - 1
        while j >= 0 && s[j] > v { above += 1; j -= 1 }
        let (lo, hi) = ciRanks(n: n, q: q)
        return Percentile(name: name, q: q, ns: v, above: above,
                          ci95Low: lo.map { s[$0] }, ci95High: hi.map { s[$0] })
    }

    /// 0-based ranks [l, u] with P(X_(l) ≤ quantile ≤ X_(u)) ≈ 0.95, X the order statistics:
    /// the count of samples below the quantile is Binomial(n, q); ±1.96 σ around nq. nil where the
    /// interval would leave the sample (fewer than about 4 samples on that side).
    public static func ciRanks(n: Int, q: Double) -> (Int?, Int?) {
        let mean = Double(n) * q, sd = (Double(n) * q * (1 - q)).squareRoot()
        let l = Int((mean - 1.96 * sd).rounded(.down)) - 1
        let u = Int((mean + 1.96 * sd).rounded(.up))
        return (l >= 0 ? l : nil, u <= n - 1 ? u : nil)
    }
}

/// One row's distribution of per hand-off latencies: percentiles with counts and intervals, the
/// maximum, the histogram, and (filled by the ring) the clock and the tail's causes.
public struct LatencySummary: Sendable, Equatable, Codable {
    public var count: Int
    public var percentiles: [Percentile]
    public var maxNs: Double
    public var minNs: Double
    public var histogram: LatencyHistogram
    /// Why the slowest hand-offs were slow (`TailCauses`), nil when not asked (n/a is a TailCauses with a reason).
    public var causes: TailCauses?

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        count = s.count
        percentiles = Percentile.standard.compactMap { Percentile.of(sorted: s, name: $0.0, q: $0.1) }
        maxNs = s[s.count - 1]
        minNs = s[0]
        histogram = LatencyHistogram(s)
        causes = nil
    }

    public func percentile(_ name: String) -> Percentile? { percentiles.first { $0.name == name } }

    /// "p50=1234.5[1230.1,1240.2]>50000;…" (the `percentiles` CSV column): value, 95 % interval, count above.
    public var text: String {
        percentiles.map { p in
            String(format: "%@=%.1f[%@,%@]>%d", p.name, p.ns, p.ci95Low.map { String(format: "%.1f", $0) } ?? "",
                   p.ci95High.map { String(format: "%.1f", $0) } ?? "", p.above)
        }.joined(separator: ";")
    }

    /// Reads back `text` and the histogram column (count, min and max from the histogram and the row's stats).
    public static func parse(percentiles text: String, histogram: String, min: Double, max: Double) -> LatencySummary? {
        guard let h = LatencyHistogram.parse(histogram) else { return nil }
        var ps: [Percentile] = []
        for item in text.split(separator: ";") {
            let nv = item.split(separator: "=", maxSplits: 1)
            guard nv.count == 2, let open = nv[1].firstIndex(of: "["), let close = nv[1].firstIndex(of: "]") else { return nil }
            let name = String(nv[0])
            let bounds = nv[1][nv[1].index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
            guard let v = Double(nv[1][..<open]), bounds.count == 2,
                  let above = Int(nv[1][nv[1].index(after: close)...].dropFirst()),
                  let q = Percentile.standard.first(where: { $0.0 == name })?.1 else { return nil }
            ps.append(Percentile(name: name, q: q, ns: v, above: above, ci95Low: Double(bounds[0]), ci95High: Double(bounds[1])))
        }
        return LatencySummary(count: h.total, percentiles: ps, maxNs: max, minNs: min, histogram: h, causes: nil)
    }

    init(count: Int, percentiles: [Percentile], maxNs: Double, minNs: Double, histogram: LatencyHistogram, causes: TailCauses?) {
        (self.count, self.percentiles, self.maxNs, self.minNs, self.histogram, self.causes) = (count, percentiles, maxNs, minNs, histogram, causes)
    }
}

/// Why the slowest hand-offs were slow: a count per cause ("timer tick", "task kworker/0:1",
/// "irq virtio0-input.0", "none traced"), over `examined` hand-offs of a traced run of `traced`
/// hand-offs (those slower than the row's p99.9, at least the run's slowest 10; `thresholdNs`: the
/// fastest of them);
/// or n/a with the reason (`unavailable`). `source`: "tracefs".
public struct TailCauses: Sendable, Equatable, Codable {
    public var examined: Int
    public var thresholdNs: Double
    public var counts: [String: Int]
    public var source: String
    public var unavailable: String?
    /// Hand-offs of the traced run, and its p50 (beside the untraced p50: what tracing cost).
    public var traced: Int = 0
    public var tracedP50Ns: Double?

    public static func notAvailable(_ why: String) -> TailCauses {
        TailCauses(examined: 0, thresholdNs: 0, counts: [:], source: "", unavailable: why)
    }

    /// Causes by count, largest first (ties by name).
    public var ranked: [(String, Int)] { counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) } }

    /// Hand-offs given a cause (not "none traced").
    public var explained: Int { counts.filter { $0.key != TailCauses.noneTraced }.values.reduce(0, +) }
    public static let noneTraced = "none traced"

    /// The `tail_causes` CSV column: "examined=122;threshold_ns=…;source=tracefs;timer tick=97;…" or "n/a: why".
    /// Cause names never contain ";" or "=" (`TailTrace` replaces them).
    public var text: String {
        if let unavailable { return "n/a: " + unavailable }
        return (["examined=\(examined)", "traced=\(traced)", String(format: "threshold_ns=%.1f", thresholdNs),
                 String(format: "traced_p50_ns=%.1f", tracedP50Ns ?? .nan), "source=\(source)"]
                + ranked.map { "\($0.0)=\($0.1)" }).joined(separator: ";")
    }

    public static func parse(_ text: String) -> TailCauses? {
        if text.isEmpty { return nil }
        if text.hasPrefix("n/a: ") { return notAvailable(String(text.dropFirst(5))) }
        var c = TailCauses(examined: 0, thresholdNs: 0, counts: [:], source: "", unavailable: nil)
        for pair in text.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { return nil }
            switch kv[0] {
            case "examined": c.examined = Int(kv[1]) ?? 0
            case "threshold_ns": c.thresholdNs = Double(kv[1]) ?? 0
            case "traced": c.traced = Int(kv[1]) ?? 0
            case "traced_p50_ns": c.tracedP50Ns = Double(kv[1]).flatMap { $0.isFinite ? $0 : nil }
            case "source": c.source = kv[1]
            default: c.counts[kv[0]] = Int(kv[1]) ?? 0
            }
        }
        return c
    }

    /// "of the 122 slowest hand-offs: 97 timer tick, 18 kworker/0:1, 7 none traced".
    public func sentence(_ lang: Language) -> String {
        if let unavailable { return lang.t("causes n/a: \(unavailable)", "原因无法得知：`\(unavailable)`") }
        let list = ranked.map { lang == .en ? "\($0.1) \($0.0)" : "\($0.1) 次 `\($0.0)`" }.joined(separator: lang.t(", ", "，"))
        return lang.t("of the \(examined) slowest of \(traced) traced hand-offs: \(list)",
                      "在跟踪记录的 \(traced) 次交接里，最慢的 \(examined) 次中：\(list)")
    }
}
