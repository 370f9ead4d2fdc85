import Foundation

/// Two-sided Mann–Whitney U (Wilcoxon rank-sum) test, normal approximation with tie correction and
/// continuity correction. Distribution-free: it asks whether one sample tends to be larger.
public enum MannWhitney {
    public struct Result: Sendable, Equatable {
        public var u: Double
        public var z: Double
        public var p: Double
    }

    /// nil when either sample has fewer than 3 values (too few for the approximation to mean anything).
    public static func test(_ a: [Double], _ b: [Double]) -> Result? {
        let n1 = a.count, n2 = b.count
        guard n1 >= 3, n2 >= 3 else { return nil }
        let all = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        let n = all.count
        var ranks = [Double](repeating: 0, count: n)
        var tieTerm = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && all[j + 1].0 == all[i].0 { j += 1 }
            let avg = Double(i + j + 2) / 2   // ranks are 1-based
            for k in i...j { ranks[k] = avg }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        var r1 = 0.0
        for k in 0..<n where all[k].1 == 0 { r1 += ranks[k] }
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2
        let mu = Double(n1 * n2) / 2
        let nn = Double(n)
        let variance = Double(n1 * n2) / 12 * ((nn + 1) - tieTerm / (nn * (nn - 1)))
        guard variance > 0 else { return Result(u: u1, z: 0, p: 1) }   // every value equal
        let diff = u1 - mu
        let corrected = diff == 0 ? 0 : (abs(diff) - 0.5) * (diff > 0 ? 1 : -1)
        let z = corrected / variance.squareRoot()
        let p = min(1, erfc(abs(z) / 2.0.squareRoot()))
        return Result(u: u1, z: z, p: p)
    }
}
