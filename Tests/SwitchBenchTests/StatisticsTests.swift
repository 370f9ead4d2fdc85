import Testing
@testable import SwitchBench

@Suite struct StatisticsTests {
    @Test func knownValues() {
        let s = Statistics([1, 2, 3, 4, 5, 6, 7, 8, 9, 100])
        #expect(s.count == 10)
        #expect(s.median == 5.5)
        #expect(s.min == 1)
        #expect(s.max == 100)
        #expect(abs(s.mean - 14.5) < 1e-12)
        // sample stddev of the ten values, by hand: sqrt(8182.5 / 9)
        #expect(abs(s.stddev - (8182.5 / 9).squareRoot()) < 1e-9)
        #expect(abs(s.cv - (8182.5 / 9).squareRoot() / 14.5) < 1e-12)
        #expect(s.outliers == 1)   // 100 is beyond Q3 + 1.5 IQR
        #expect(s.isNoisy)
    }

    @Test func quantilesInterpolate() {
        let sorted: [Double] = [10, 20, 30, 40]
        #expect(Statistics.quantile(sorted, 0) == 10)
        #expect(Statistics.quantile(sorted, 1) == 40)
        #expect(Statistics.quantile(sorted, 0.5) == 25)
        #expect(Statistics.quantile(sorted, 0.25) == 17.5)
    }

    @Test func medianConfidenceRanks() {
        // n = 31: ranks 10 and 22 (1-based) by the normal approximation: 15.5 ∓ 5.46 (+1 above).
        #expect(Statistics.medianCIRanks(31) == (9, 21))
        // Tiny samples clamp to the extremes.
        #expect(Statistics.medianCIRanks(3) == (0, 2))
        let s = Statistics((1...31).map(Double.init))
        #expect(s.ci95Low == 10 && s.ci95High == 22)
        #expect(s.ci95Low <= s.median && s.median <= s.ci95High)
    }

    @Test func constantSamples() {
        let s = Statistics([5, 5, 5, 5])
        #expect(s.stddev == 0 && s.cv == 0 && s.outliers == 0 && !s.isNoisy)
        let one = Statistics([7])
        #expect(one.median == 7 && one.stddev == 0)
    }
}
