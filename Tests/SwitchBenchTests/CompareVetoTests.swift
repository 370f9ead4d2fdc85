import Foundation
import Testing
@testable import SwitchBench

/// Each reason compare has not to count a change may wave off only a change its noise could have produced
/// (issue 24; docs/compare.md, "Vetoes").
@Suite struct CompareVetoTests {
    /// 11 samples with this median and (sample) CV exactly: M × (1 + cv × z), z evenly spaced, sd 1.
    static func record(_ metric: String = "per_call", mechanism: String = "getppid", placement: String = "same-cpu",
                       median: Double, cv: Double, harness: String = "syscall") -> Record {
        let z = (0..<11).map { (Double($0) - 5) / 11.0.squareRoot() }
        return Record(harness: harness, mechanism: mechanism, placement: placement, cpus: placement == "same-cpu" ? [0] : [0, 1],
                      tasks: harness == "syscall" ? 1 : 2, metric: metric, samples: z.map { median * (1 + cv * $0) }, opsPerSample: 1000)
    }

    /// The issue's getppid baseline: 3 runs, medians 89.8 / 90.2 / 97.0 ns, CVs 1.7 / 13 / 22 %, 11 samples each
    /// (with a steady clock_gettime row, so that the group has a pooled run-to-run spread).
    static var baseline: RunResult {
        ReportFixture.run(zip([89.8, 90.2, 97.0], [0.017, 0.13, 0.22]).flatMap { m, cv in
            [record(median: m, cv: cv), record(mechanism: "clock_gettime", median: 20 + m / 100, cv: 0.01)]
        })
    }

    static func current(getppid: Double, cv: Double = 0.012) -> RunResult {
        ReportFixture.run([record(median: getppid, cv: cv), record(mechanism: "clock_gettime", median: 20.9, cv: 0.01)])
    }

    func compare(_ base: RunResult, _ cur: RunResult, threshold: Double = 0.10) throws -> Comparison {
        try Comparison.make(baseline: ReportFixture.loaded(base), baselineSource: "base", current: ReportFixture.loaded(cur),
                            currentSource: "cur", threshold: threshold)
    }

    @Test func theFixtureHasTheIssuesNumbers() throws {
        let runs = Self.baseline.records.filter { $0.mechanism == "getppid" }.compactMap(\.stats)
        #expect(runs.map { ($0.median * 10).rounded() / 10 } == [89.8, 90.2, 97.0])
        #expect(runs.map { ($0.cv * 1000).rounded() / 10 } == [1.7, 13, 22])
        #expect(runs.allSatisfy { $0.count == 11 })
    }

    /// +220 % cannot come from a within-run CV of 13 %: a regression, and the note says both.
    @Test func aThreefoldSlowdownIsARegressionWhateverTheCV() throws {
        let c = try compare(Self.baseline, Self.current(getppid: 288))
        let g = try #require(c.cases.first { $0.key.mechanism == "getppid" })
        #expect(g.classification == .regression, "\(g.note)")
        #expect(g.note.contains("beyond any noise the baseline or this run shows (CV 13 % → 1 % (> 10 %): a factor of up to 1.39): regression"), "\(g.note)")
        #expect(g.noteZh.contains("超出基线和本次运行可能有的任何噪声"))
        #expect(c.exitCode == 1)
        #expect(c.markdown().contains("beyond any noise"))
    }

    /// +8 % with the same CVs: within what a CV of 13 % can move a median: never a regression.
    @Test func anEightPercentChangeWithTheSameCVsStaysNoisy() throws {
        let cur = Self.current(getppid: 90.2 * 1.08)
        let c = try compare(Self.baseline, cur, threshold: 0.05)
        let g = try #require(c.cases.first { $0.key.mechanism == "getppid" })
        #expect(g.classification == .noisy || g.classification == .unchanged, "\(g.classification) \(g.note)")
        #expect(c.exitCode == 0)
        // the rule itself, past the threshold and the run-to-run test: the CV veto waves it off
        let base = Self.baseline.records.filter { $0.mechanism == "getppid" }
        let v = Comparison.vetoes(baseRuns: base, cur: cur.records[0], predicted: true, siblings: .init())
        #expect(v.count == 1 && abs(v[0].bound! - log(1.39)) < 1e-3)
        let (cls, note) = Comparison.decide(ratio: 1.08, worse: true, vetoes: v)
        #expect(cls == .noisy)
        #expect(note?.0.contains("worse by +8 % but CV 13 % → 1 % (> 10 %): noise that can move it by a factor of up to 1.39; not counted") == true, "\(note?.0 ?? "")")
        #expect(Comparison.decide(ratio: 288 / 90.2, worse: true, vetoes: v).0 == .regression)
        #expect(Comparison.decide(ratio: 90.2 / 288, worse: false, vetoes: v).0 == .improvement)
    }

    /// Busy neighbours that used a share b of the CPUs stretch a time by at most 1/(1 − b).
    @Test func busyNeighboursWaveOffOnlyWhatTheirShareCanExplain() {
        func busy(_ median: Double, _ b: Double) -> Record {
            var r = Self.record("round_trip", mechanism: "pipe", placement: "cross-cpu", median: median, cv: 0.02, harness: "thread")
            r.neighbourBusy = b
            r.invalidate("other tasks kept the CPUs busy")
            r.setFact(Neighbours.invalidatedByKey, Neighbours.invalidatedByValue)
            return r
        }
        let base = [Self.record("round_trip", mechanism: "pipe", placement: "cross-cpu", median: 10_000, cv: 0.02, harness: "thread")]
        let v = Comparison.vetoes(baseRuns: base, cur: busy(15_000, 0.5), predicted: false, siblings: .init())
        #expect(v.count == 1 && abs(v[0].bound! - log(2)) < 1e-9)
        #expect(Comparison.decide(ratio: 1.5, worse: true, vetoes: v).0 == .noisy)
        #expect(Comparison.decide(ratio: 3.2, worse: true, vetoes: v).0 == .regression)
        var unknown = busy(15_000, 0.5)
        unknown.neighbourBusy = nil   // share not recorded: no bound, waved off, said so
        let u = Comparison.vetoes(baseRuns: base, cur: unknown, predicted: false, siblings: .init())
        #expect(u[0].bound == nil && u[0].en.contains("their share not recorded"))
        #expect(Comparison.decide(ratio: 3.2, worse: true, vetoes: u).0 == .noisy)
    }

    /// The scheduler's choice can put an unpinned row anywhere between its same-cpu and cross-cpu times.
    @Test func unpinnedWavesOffOnlyWhatPlacementCanExplain() throws {
        let pinned = ["same-cpu": 2_000.0, "cross-cpu": 20_000.0, "unpinned": 5_000.0]
        func run(_ unpinned: Double) -> RunResult {
            ReportFixture.run(pinned.sorted { $0.key < $1.key }.map { p, m in
                Self.record("round_trip", mechanism: "pipe", placement: p, median: p == "unpinned" ? unpinned : m, cv: 0.02, harness: "thread")
            })
        }
        let within = try compare(run(5_000), run(16_000))   // ×3.2, within the factor of 10
        let u = try #require(within.cases.first { $0.key.placement == "unpinned" })
        #expect(u.classification == .noisy && u.note.contains("same-cpu and cross-cpu differ by a factor of 10.00"), "\(u.note)")
        let beyond = try compare(run(5_000), run(75_000))   // ×15
        #expect(beyond.cases.first { $0.key.placement == "unpinned" }?.classification == .regression)
        // no pinned sibling to bound it: waved off, saying so
        let alone = try compare(ReportFixture.run([Self.record("round_trip", mechanism: "pipe", placement: "unpinned", median: 5_000, cv: 0.02, harness: "thread")]),
                                ReportFixture.run([Self.record("round_trip", mechanism: "pipe", placement: "unpinned", median: 75_000, cv: 0.02, harness: "thread")]))
        #expect(alone.cases[0].classification == .noisy && alone.cases[0].note.contains("no pinned row of this case bounds it"))
    }

    /// A single value against a one-run baseline has no noise estimate (waved off, said); against a
    /// multi-run baseline the runs are its noise, and a change beyond them counts.
    @Test func aSingleValueCountsAgainstSeveralRuns() throws {
        func fact(_ v: Double) -> Record {
            Record(harness: "syscall", mechanism: "getppid", placement: "same-cpu", cpus: [0], tasks: 1, metric: "reach", unit: "pages",
                   samples: [v], opsPerSample: 1)
        }
        let one = try compare(ReportFixture.run([fact(64)]), ReportFixture.run([fact(256)]))
        #expect(one.cases[0].classification == .noisy && one.cases[0].note.contains("a one-run baseline has no noise estimate"), "\(one.cases[0].note)")
        let many = try compare(ReportFixture.run([fact(64), Self.record(median: 90, cv: 0.01), fact(65), Self.record(median: 91, cv: 0.01),
                                                  fact(63), Self.record(median: 89, cv: 0.01)]),
                               ReportFixture.run([fact(256), Self.record(median: 90, cv: 0.01)]))
        #expect(many.cases.first { $0.key.metric == "reach" }?.classification == .regression)
    }
}

/// A value the gate cannot read never passes as unchanged (issue 24): refused where read, exit 2.
@Suite struct NonFiniteTimesTests {
    static func csv(median: String, column: String = "median") throws -> String {
        var rows = try CSV.parse(CSVExporter.render(ReportFixture.basic)).filter { !($0.count == 1 && $0[0].isEmpty) }
        let (h, m) = (rows[0].firstIndex(of: "mechanism")!, rows[0].firstIndex(of: column)!)
        let i = rows.firstIndex { $0[h] == "getppid" }!
        rows[i][m] = median
        return rows.map(CSV.line).joined(separator: "\n") + "\n"
    }

    @Test(arguments: ["nan", "NaN", "inf", "-inf", "-90.5"])
    func refusedWithLineAndColumn(_ value: String) throws {
        let text = try Self.csv(median: value)
        #expect {
            _ = try RunLoader.parse(text, source: "cur.csv")
        } throws: { error in
            guard case SwitchBenchError.usage(let m) = error else { return false }
            return m.hasPrefix("cur.csv line 6, column median: '\(value)'") && !m.contains("\n")
        }
    }

    @Test func aNegativeSampleOrSpreadIsRefusedButADifferenceMayBeNegative() throws {
        #expect(throws: SwitchBenchError.self) { _ = try RunLoader.parse(try Self.csv(median: "-0.1", column: "stddev"), source: "x") }
        #expect(throws: SwitchBenchError.self) { _ = try RunLoader.parse(try Self.csv(median: "1 nan 3", column: "sample_values"), source: "x") }
        let penalty = Record(harness: "pollution", mechanism: "thread", placement: "same-cpu", cpus: [0], tasks: 2,
                             metric: "rewalk_penalty_per_page", samples: [-3, -1, 2, 4, -2], opsPerSample: 1)
        #expect(try RunLoader.parse(CSVExporter.render(ReportFixture.run([penalty])), source: "p").run.records.count == 1)
    }
}

extension ProcessSpawningTests {
    /// The binary: a current CSV with a nan, inf or negative median against a good baseline exits 2, one line.
    @Suite struct NonFiniteCompareCLITests {
        @Test func compareExitsTwoNamingLineAndColumn() throws {
            let dir = try CompareCLITests.tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try CSVExporter.render(ReportFixture.basic).write(toFile: dir + "/base.csv", atomically: true, encoding: .utf8)
            for value in ["nan", "inf", "-90"] {
                try NonFiniteTimesTests.csv(median: value).write(toFile: dir + "/cur.csv", atomically: true, encoding: .utf8)
                let (r, _) = try CLITests.run(["compare", dir + "/base.csv", dir + "/cur.csv"])
                #expect(r.status == 2, "\(value): \(r.status) \(r.stdout)")
                #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("line 6, column median: '\(value)'"), "\(r.stderr)")
                #expect(!r.stdout.contains("unchanged"))
            }
        }
    }
}
