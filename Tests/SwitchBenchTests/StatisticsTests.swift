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
        // sample stddev of the ten values, computed by hand: sqrt(8222.5/9)
        #expect(abs(s.stddev - (8222.5 / 9).squareRoot()) < 1e-9)
        #expect(s.outliers == 1)   // 100 is beyond Q3 + 1.5 IQR
    }
}
