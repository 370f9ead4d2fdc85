import Foundation

/// Summary statistics of one case's samples (each sample: nanoseconds per op).
public struct Statistics: Sendable, Equatable, Codable {
    public var count: Int
    public var median: Double
    public var min: Double
    public var mean: Double
    public var max: Double
    /// Sample standard deviation (n − 1).
    public var stddev: Double
    /// Coefficient of variation: stddev / mean.
    public var cv: Double
    /// 95 % confidence interval of the median from order statistics (distribution-free).
    public var ci95Low: Double
    public var ci95High: Double
    /// Samples outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (Tukey fences).
    public var outliers: Int

    /// CV above this makes a case `noisy`.
    public static let noisyCV = 0.10

    /// Statistics as stored (e.g. read back from a CSV).
    public init(count: Int, median: Double, min: Double, mean: Double, max: Double, stddev: Double,
                cv: Double, ci95Low: Double, ci95High: Double, outliers: Int) {
        (self.count, self.median, self.min, self.mean, self.max) = (count, median, min, mean, max)
        (self.stddev, self.cv, self.ci95Low, self.ci95High, self.outliers) = (stddev, cv, ci95Low, ci95High, outliers)
    }

    public init(_ values: [Double]) {
        precondition(!values.isEmpty, "statistics of no samples")
        let sorted = values.sorted()
        let n = sorted.count
        count = n
        min = sorted[0]
        max = sorted[n - 1]
        median = Statistics.quantile(sorted, 0.5)
        mean = sorted.reduce(0, +) / Double(n)
        if n > 1 {
            let m = mean
            let ss = sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            stddev = (ss / Double(n - 1)).squareRoot()
        } else {
            stddev = 0
        }
        cv = mean != 0 ? stddev / abs(mean) : 0
        let (lo, hi) = Statistics.medianCIRanks(n)
        ci95Low = sorted[lo]
        ci95High = sorted[hi]
        let q1 = Statistics.quantile(sorted, 0.25), q3 = Statistics.quantile(sorted, 0.75)
        let iqr = q3 - q1
        outliers = sorted.filter { $0 < q1 - 1.5 * iqr || $0 > q3 + 1.5 * iqr }.count
    }

    public var isNoisy: Bool { cv > Statistics.noisyCV }

    /// Linear interpolation between closest ranks (Hyndman–Fan type 7, numpy's default).
    public static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        let h = Double(sorted.count - 1) * p
        let lo = Int(h.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// Zero-based ranks (j, k) of the order statistics bounding a 95 % CI of the median:
    /// j = ⌊n/2 − 1.96·√n/2⌋, k = ⌈n/2 + 1.96·√n/2⌉ (1-based, normal approximation to the
    /// binomial), clamped to the sample.
    public static func medianCIRanks(_ n: Int) -> (Int, Int) {
        let half = 1.96 * Double(n).squareRoot() / 2
        let j = Int((Double(n) / 2 - half).rounded(.down))
        let k = Int((Double(n) / 2 + half).rounded(.up)) + 1
        return (Swift.max(j, 1) - 1, Swift.min(k, n) - 1)
    }
}
