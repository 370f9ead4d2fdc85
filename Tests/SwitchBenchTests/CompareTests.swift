import Foundation
import Testing
@testable import SwitchBench

/// Synthetic runs for exporter tests: records made from fixed sample lists (no timing involved).
enum ReportFixture {
    static func environment(kernel: String = "6.1.0-test", pcid: Bool = true) -> Environment {
        Environment(suiteVersion: "0.1.0", gitCommit: "abc", build: "debug", host: "testhost", kernel: kernel,
                    cpuModel: "Test CPU", onlineCPUs: "0-1", allowedCPUs: "0-1", numaNodes: 1,
                    virtualization: "KVM", mitigations: ["meltdown: Not affected", "retbleed: Mitigation: IBRS"],
                    pcid: pcid, thp: "madvise", clocksource: "tsc", perfEventParanoid: "2",
                    countersAvailable: [], countersUnavailable: [], swiftVersion: "6.3")
    }

    /// n samples spread deterministically around `center` (±spread, fixed pattern).
    static func samples(_ center: Double, spread: Double = 0.02, n: Int = 31) -> [Double] {
        (0..<n).map { (i: Int) -> Double in
            let position: Double = Double((i * 7) % n) / Double(n - 1)   // 0 … 1, a fixed shuffle
            return center * (1 + spread * (position * 2 - 1))
        }
    }

    static func run(_ records: [Record], kernel: String = "6.1.0-test", pcid: Bool = true) -> RunResult {
        RunResult(runID: "20260101T000000Z-testhost", timestampUTC: "2026-01-01T00:00:00Z",
                  environment: environment(kernel: kernel, pcid: pcid), records: records)
    }

    static func record(_ h: String, _ m: String, _ p: String = "same-cpu", metric: String, _ center: Double,
                       spread: Double = 0.02, tasks: Int = 2, pages: Int? = nil, pageSize: Int? = nil,
                       valid: Bool = true, unit: String = "ns", parameters: [CaseParameter] = []) -> Record {
        var r = Record(harness: h, mechanism: m, placement: p, cpus: p == "same-cpu" ? [0] : [0, 1], tasks: tasks,
                       pageSizeBytes: pageSize, workingSetPages: pages, parameters: parameters, metric: metric, unit: unit,
                       samples: samples(center, spread: spread), opsPerSample: 1000)
        if !valid { r.invalidate("switches/op off") }
        return r
    }

    static var basic: RunResult {
        run([record("process", "pipe", metric: "round_trip", 5000),
             record("process", "pipe", metric: "per_switch", 2500),
             record("thread", "pipe", metric: "round_trip", 4000),
             record("thread", "pipe", metric: "per_switch", 2000),
             record("syscall", "getppid", metric: "per_call", 90, tasks: 1),
             record("syscall", "clock_gettime", metric: "per_call", 20, tasks: 1)])
    }

    static func loaded(_ run: RunResult) throws -> (run: RunResult, fields: [[String: String]]) {
        try RunLoader.parse(CSVExporter.render(run), source: "test.csv")
    }
}

@Suite struct CompareTests {
    @Test func selfCompareIsAllUnchanged() throws {
        let a = try ReportFixture.loaded(ReportFixture.basic)
        let c = try Comparison.make(baseline: a, baselineSource: "a", current: a, currentSource: "a")
        #expect(c.cases.count == 6)
        #expect(c.cases.allSatisfy { $0.classification == .unchanged })
        #expect(c.exitCode == 0)
        #expect(c.environmentChanges.isEmpty)
        #expect(c.warnings.isEmpty)
    }

    @Test func oneCaseThirtyPercentSlowerIsTheOnlyRegression() throws {
        let base = ReportFixture.basic
        var slower = base
        let i = slower.records.firstIndex { $0.harness == "thread" && $0.metric == "round_trip" }!
        let old = slower.records[i]
        slower.records[i] = Record(harness: old.harness, mechanism: old.mechanism, placement: old.placement,
                                   cpus: old.cpus, tasks: old.tasks, metric: old.metric,
                                   samples: old.sampleValues.map { $0 * 1.3 }, opsPerSample: old.opsPerSample)
        let c = try Comparison.make(baseline: ReportFixture.loaded(base), baselineSource: "a",
                                    current: ReportFixture.loaded(slower), currentSource: "b")
        #expect(c.regressions.map(\.key) == [old.key])
        #expect(c.count(.unchanged) == 5)
        #expect(c.exitCode == 1)
        // and the other way round it is an improvement, not a regression
        let back = try Comparison.make(baseline: ReportFixture.loaded(slower), baselineSource: "b",
                                       current: ReportFixture.loaded(base), currentSource: "a")
        #expect(back.regressions.isEmpty)
        #expect(back.count(.improvement) == 1)
    }

    /// `compare --confirm`: a change counts only when every rerun shows the same change.
    @Test func aChangeCountsOnlyWhenEveryRerunShowsIt() throws {
        let base = ReportFixture.basic
        func scaled(_ factor: Double, _ harness: String = "thread") -> RunResult {
            var r = base
            let i = r.records.firstIndex { $0.harness == harness && $0.metric == "round_trip" }!
            let old = r.records[i]
            r.records[i] = Record(harness: old.harness, mechanism: old.mechanism, placement: old.placement, cpus: old.cpus,
                                  tasks: old.tasks, metric: old.metric, samples: old.sampleValues.map { $0 * factor },
                                  opsPerSample: old.opsPerSample)
            return r
        }
        func compare(_ current: RunResult, reruns: [RunResult]) throws -> Comparison {
            let b = try ReportFixture.loaded(base)
            var c = try Comparison.make(baseline: b, baselineSource: "base", current: ReportFixture.loaded(current), currentSource: "cur")
            try c.confirm(by: reruns.enumerated().map { (i, r) in
                try Comparison.make(baseline: b, baselineSource: "base", current: ReportFixture.loaded(r), currentSource: "rerun\(i)")
            })
            return c
        }
        let slow = scaled(1.3)
        // Slower in both reruns: still the one regression, with what the reruns read.
        let kept = try compare(slow, reruns: [scaled(1.28), scaled(1.32)])
        #expect(kept.regressions.count == 1)
        #expect(kept.regressions.first?.note.contains("confirmed by 2 rerun(s)") == true)
        #expect(kept.exitCode == 1)
        #expect(kept.confirmedBy == ["rerun0", "rerun1"])
        // One rerun at the baseline's value: shown, not counted.
        let cleared = try compare(slow, reruns: [scaled(1.3), base])
        #expect(cleared.regressions.isEmpty)
        #expect(cleared.exitCode == 0)
        let c = cleared.cases.first { $0.harness == "thread" && $0.metric == "round_trip" }!
        #expect(c.classification == .noisy)
        #expect(c.note.contains("not confirmed"))
        #expect(!c.noteZh.isEmpty && !c.noteZh.contains("unchanged"))
        // Every run slower, but the runs differ among themselves by more than the smallest change
        // (+15 %, +30 %, +60 %: spread 39 %): the case moves that much from run to run here; not counted.
        let wandering = try compare(slow, reruns: [scaled(1.15), scaled(1.6)])
        #expect(wandering.regressions.isEmpty)
        #expect(wandering.cases.first { $0.harness == "thread" && $0.metric == "round_trip" }?.note.contains("among themselves") == true)
        // A rerun without the case cannot clear it.
        let other = ReportFixture.run(base.records.filter { $0.harness == "syscall" })
        #expect(try compare(slow, reruns: [other]).regressions.count == 1)
        // An improvement that does not persist is not shown as one either.
        #expect(try compare(scaled(0.7), reruns: [base]).count(.improvement) == 0)
        // No reruns: unchanged behaviour.
        #expect(try compare(slow, reruns: []).regressions.count == 1)
    }

    @Test func withinThresholdOrWithinNoiseIsUnchanged() throws {
        // 5 % slower, tight samples: beyond noise but not beyond 10 %.
        let a = ReportFixture.run([ReportFixture.record("thread", "futex", metric: "round_trip", 1000, spread: 0.01)])
        let b = ReportFixture.run([ReportFixture.record("thread", "futex", metric: "round_trip", 1050, spread: 0.01)])
        let c = try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b), currentSource: "b")
        #expect(c.cases[0].classification == .unchanged)
        #expect(c.cases[0].beyondNoise)
        // 15 % slower but samples spread ±60 %: beyond threshold, within noise.
        let d = ReportFixture.run([ReportFixture.record("thread", "futex", metric: "round_trip", 1000, spread: 0.6)])
        let e = ReportFixture.run([ReportFixture.record("thread", "futex", metric: "round_trip", 1150, spread: 0.6)])
        let f = try Comparison.make(baseline: ReportFixture.loaded(d), baselineSource: "d", current: ReportFixture.loaded(e), currentSource: "e")
        #expect(f.cases[0].beyondThreshold)
        #expect(!f.cases[0].beyondNoise)
        #expect(f.cases[0].classification == .unchanged)
    }

    @Test func noisyUnpinnedAndDerivedChangesAreNotGated() throws {
        // CV ≈ 35 %: moved 40 % and beyond noise, still not a regression
        let a = ReportFixture.run([ReportFixture.record("thread", "pipe", "cross-cpu", metric: "round_trip", 1000, spread: 0.6),
                             ReportFixture.record("thread", "pipe", "unpinned", metric: "round_trip", 1000, spread: 0.01)])
        let b = ReportFixture.run([ReportFixture.record("thread", "pipe", "cross-cpu", metric: "round_trip", 2000, spread: 0.6),
                             ReportFixture.record("thread", "pipe", "unpinned", metric: "round_trip", 1400, spread: 0.01)])
        let c = try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b), currentSource: "b")
        #expect(c.cases.map(\.classification) == [.noisy, .noisy])
        #expect(c.exitCode == 0)
        // a one-value fact (e.g. a TLB reach) that moved: no noise estimate, not gated
        func fact(_ v: Double) -> RunResult {
            ReportFixture.run([Record(harness: "tlb", mechanism: "4k", placement: "same-cpu", cpus: [0], tasks: 1,
                                      workingSetPages: 64, parameters: [CaseParameter(.tlbLevel, 1)], metric: "reach_pages", unit: "pages", samples: [v], opsPerSample: 0)])
        }
        let g = try Comparison.make(baseline: ReportFixture.loaded(fact(64)), baselineSource: "a",
                                    current: ReportFixture.loaded(fact(96)), currentSource: "b")
        #expect(g.cases[0].classification == .noisy)
        // net_switch moved because its subtracted ipc_overhead moved: not counted
        let d = ReportFixture.run([ReportFixture.record("thread", "pipe", metric: "net_switch", 200, spread: 0.01),
                             ReportFixture.record("thread", "pipe", metric: "ipc_overhead", 1300, spread: 0.01)])
        let e = ReportFixture.run([ReportFixture.record("thread", "pipe", metric: "net_switch", 900, spread: 0.01),
                             ReportFixture.record("thread", "pipe", metric: "ipc_overhead", 500, spread: 0.01)])
        let f = try Comparison.make(baseline: ReportFixture.loaded(d), baselineSource: "d", current: ReportFixture.loaded(e), currentSource: "e")
        #expect(f.cases[0].classification == .noisy)
        #expect(f.cases[1].classification == .improvement)
        #expect(f.exitCode == 0)
        // a coroutine's per_switch is its round trip ÷ 2: one change, counted once (on the round trip)
        func coroutine(_ rt: Double) -> RunResult {
            ReportFixture.run([ReportFixture.record("coroutine", "swift-task-yield", metric: "round_trip", rt, spread: 0.01),
                               ReportFixture.record("coroutine", "swift-task-yield", metric: "per_switch", rt / 2, spread: 0.01)])
        }
        let y = try Comparison.make(baseline: ReportFixture.loaded(coroutine(800)), baselineSource: "a",
                                    current: ReportFixture.loaded(coroutine(1100)), currentSource: "b")
        #expect(y.regressions.map(\.metric) == ["round_trip"])
        #expect(y.cases.first { $0.metric == "per_switch" }?.note.contains("judged through that row") == true)
    }

    @Test func multiRunBaselineUsesPooledRunToRunNoise() throws {
        // 10 cases × 3 baseline runs whose medians drift by −2 %, 0, +2 % from run to run
        func run(_ drift: Double, slower: Int? = nil, factor: Double = 1) -> RunResult {
            ReportFixture.run((0..<10).map { i in
                ReportFixture.record("tlb", "4k", metric: "ns_per_access", 100 * Double(i + 1) * (1 + drift) * (i == slower ? factor : 1),
                                     spread: 0.005, tasks: 1, pages: 8 << i)
            })
        }
        let text = [-0.02, 0.0, 0.02].map { CSVExporter.render(run($0)) }.joined()
        let base = try RunLoader.parse(text, source: "base.csv")
        // a new run drifting +4 %: beyond every baseline run's CI, but within the pooled run-to-run noise
        let drift = try Comparison.make(baseline: base, baselineSource: "base", current: ReportFixture.loaded(run(0.04)), currentSource: "cur")
        #expect(drift.baselineRuns == 3)
        #expect(drift.cases.allSatisfy { $0.classification == .unchanged })
        #expect(drift.duplicates.isEmpty)
        // one case 30 % slower: exactly that one
        let slow = try Comparison.make(baseline: base, baselineSource: "base",
                                       current: ReportFixture.loaded(run(0, slower: 3, factor: 1.3)), currentSource: "cur")
        #expect(slow.regressions.map(\.workingSetPages) == [64])
        #expect(slow.cases.first { $0.workingSetPages == 64 }?.baselineMedian == 400)
        // a lone case with 3 widely spread runs (1000, 1100, 1200): 2 df, its 99 % prediction is wide
        func one(_ v: Double) -> RunResult {
            ReportFixture.run([ReportFixture.record("thread", "futex", metric: "round_trip", v, spread: 0.01)])
        }
        let lone = try RunLoader.parse([1000.0, 1100, 1200].map { CSVExporter.render(one($0)) }.joined(), source: "lone.csv")
        let l = try Comparison.make(baseline: lone, baselineSource: "lone", current: ReportFixture.loaded(one(1500)), currentSource: "cur")
        #expect(l.cases[0].classification == .unchanged)
        // the same current against the first run alone is a regression
        let single = try Comparison.make(baseline: ReportFixture.loaded(one(1000)), baselineSource: "b",
                                         current: ReportFixture.loaded(one(1500)), currentSource: "cur")
        #expect(single.cases[0].classification == .regression)
    }

    /// A multi-run baseline says what it can gate per group, and warns when its runs disagree.
    @Test func aNoisyBaselineSaysWhatItCannotGate() throws {
        // 10 syscall cases whose 3 runs drift −2 %, 0, +2 %; 10 tlb cases whose runs drift −30 %, 0, +30 %.
        func run(_ drift: Double) -> RunResult {
            var records: [Record] = []
            for i in 0..<10 {
                let size = 100 * Double(i + 1)
                records.append(ReportFixture.record("syscall", "m\(i)", metric: "per_call", size * (1 + drift * 0.07), spread: 0.005, tasks: 1))
                records.append(ReportFixture.record("tlb", "4k", metric: "ns_per_access", size * (1 + drift), spread: 0.005, tasks: 1, pages: 8 << i))
            }
            return ReportFixture.run(records)
        }
        let base = try RunLoader.parse([-0.3, 0.0, 0.3].map { CSVExporter.render(run($0)) }.joined(), source: "base.csv")
        let c = try Comparison.make(baseline: base, baselineSource: "base", current: ReportFixture.loaded(run(0)), currentSource: "cur")
        let limits = Dictionary(uniqueKeysWithValues: c.gateLimits.map { ($0.harness, $0.smallestChange) })
        #expect(limits["syscall"].map { $0 < 0.25 } == true, "\(limits)")
        #expect(limits["tlb"].map { $0 > Comparison.noisyBaselineLimit } == true, "\(limits)")
        let noisy = c.warnings.filter { $0.hasPrefix("NOISY BASELINE") }
        #expect(noisy.count == 1)
        #expect(noisy.first?.contains("tlb same-cpu") == true && noisy.first?.contains("syscall") == false)
        #expect(c.markdown().contains("Smallest slowdown this baseline can gate"))
        #expect(c.markdown(lang: .zh).contains("最小变慢幅度"))
        // A single-run baseline has no run-to-run spread to report.
        let one = try Comparison.make(baseline: ReportFixture.loaded(run(0)), baselineSource: "a", current: ReportFixture.loaded(run(0)), currentSource: "b")
        #expect(one.gateLimits.isEmpty)
    }

    /// `--require-gate`: a baseline whose runs disagree cannot gate +25 % in the noisy group (exit 4, its
    /// first Markdown line naming that group first and from what size it can gate); a quiet one can (exit 0);
    /// a one-run baseline cannot say (exit 4); a regression still exits 1.
    @Test func requireGateSaysWhenTheBaselineCannotSee() throws {
        func run(_ drift: Double, slower: Double = 1) -> RunResult {
            var records: [Record] = []
            for i in 0..<10 {
                let size = 100 * Double(i + 1)
                records.append(ReportFixture.record("syscall", "m\(i)", metric: "per_call", size * (1 + drift * 0.07) * slower, spread: 0.005, tasks: 1))
                records.append(ReportFixture.record("tlb", "4k", metric: "ns_per_access", size * (1 + drift), spread: 0.005, tasks: 1, pages: 8 << i))
            }
            return ReportFixture.run(records)
        }
        func baseline(_ drifts: [Double]) throws -> (run: RunResult, fields: [[String: String]]) {
            try RunLoader.parse(drifts.map { CSVExporter.render(run($0)) }.joined(), source: "base.csv")
        }
        // tlb runs −30 %, 0, +30 %: it cannot gate +25 %; syscall (±2 %) can
        var noisy = try Comparison.make(baseline: baseline([-0.3, 0.0, 0.3]), baselineSource: "base", current: ReportFixture.loaded(run(0)), currentSource: "cur")
        #expect(noisy.exitCode == 0 && !noisy.cannotGate)    // nothing required: as before
        let before = noisy.markdown()
        #expect(before.hasPrefix("🚫 **CANNOT GATE a +50 % slowdown**"), "\(before.prefix(200))")   // the NOISY limit
        noisy.requiredGate = 0.25
        #expect(noisy.cannotGate && noisy.exitCode == Comparison.cannotGateExit && Comparison.cannotGateExit == 4)
        #expect(noisy.blindGroups.map(\.harness) == ["tlb"])
        let first = String(noisy.markdown().prefix { $0 != "\n" })
        #expect(first.hasPrefix("🚫 **CANNOT GATE a +25 % slowdown (`--require-gate`) (exit 4)** in 1 group(s)"), "\(first)")
        #expect(first.contains("`tlb same-cpu` from +") && !first.contains("syscall") && first.contains("the other 1 group(s) can"), "\(first)")
        let zhFirst = String(noisy.markdown(lang: .zh).prefix { $0 != "\n" })
        #expect(zhFirst.contains("无法判定 +25 % 的变慢") && zhFirst.contains("`tlb same-cpu` 要 +"), "\(zhFirst)")
        #expect(LeakCheck.leaks(noisy.markdown(lang: .zh)).isEmpty, "\(LeakCheck.leaks(noisy.markdown(lang: .zh)))")
        #expect(noisy.json().contains("\"cannotGate\" : true"))

        // both groups quiet (±2 %): +25 % can be gated
        var quiet = try Comparison.make(baseline: baseline([-0.02, 0.0, 0.02]), baselineSource: "base", current: ReportFixture.loaded(run(0)), currentSource: "cur")
        #expect(quiet.markdown().hasPrefix("## switchbench compare"))   // nothing required, nothing blind: no line
        quiet.requiredGate = 0.25
        #expect(!quiet.cannotGate && quiet.exitCode == 0 && quiet.blindGroups.isEmpty)
        #expect(quiet.markdown().hasPrefix("✅ **Every group can gate a +25 % slowdown** (`--require-gate`): the widest limit is `"))
        // a regression still exits 1, the line still says what cannot be gated
        var slow = try Comparison.make(baseline: baseline([-0.3, 0.0, 0.3]), baselineSource: "base", current: ReportFixture.loaded(run(0, slower: 1.5)), currentSource: "cur")
        slow.requiredGate = 0.25
        #expect(!slow.regressions.isEmpty && slow.exitCode == 1 && slow.cannotGate)
        #expect(slow.markdown().hasPrefix("🚫 **CANNOT GATE a +25 % slowdown (`--require-gate`)** in"))
        // one baseline run: what it can gate is unknown, so the requirement is not met
        var one = try Comparison.make(baseline: ReportFixture.loaded(run(0)), baselineSource: "a", current: ReportFixture.loaded(run(0)), currentSource: "b")
        one.requiredGate = 0.25
        #expect(one.cannotGate && one.exitCode == 4)
        #expect(one.markdown().hasPrefix("🚫 **CANNOT SAY WHAT IT GATES:** the baseline has 1 run(s)"))
        #expect(LeakCheck.leaks(one.markdown(lang: .zh)).isEmpty)
    }

    @Test func newAndMissingCases() throws {
        var b = ReportFixture.basic
        b.records.removeLast()
        b.records.append(ReportFixture.record("coroutine", "asm", metric: "per_switch", 5, tasks: 2))
        let c = try Comparison.make(baseline: ReportFixture.loaded(ReportFixture.basic), baselineSource: "a",
                                    current: ReportFixture.loaded(b), currentSource: "b")
        #expect(c.count(.new) == 1)
        #expect(c.count(.missing) == 1)
        #expect(c.exitCode == 0)
    }

    @Test func environmentChangeIsWarned() throws {
        let a = ReportFixture.basic
        var b = a
        b.environment.kernel = "6.8.0-other"
        let c = try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b), currentSource: "b")
        #expect(c.environmentChanges.map(\.fact) == ["kernel"])
        #expect(c.warnings.first?.contains("kernel") == true)
        #expect(c.markdown().contains("ENVIRONMENT DIFFERS"))
    }

    @Test func invalidRowRegressionIsFlagged() throws {
        let a = ReportFixture.run([ReportFixture.record("process", "pipe", metric: "round_trip", 1000)])
        let b = ReportFixture.run([ReportFixture.record("process", "pipe", metric: "round_trip", 1500, valid: false)])
        let c = try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b), currentSource: "b")
        #expect(c.cases[0].classification == .regression)
        #expect(c.invalidChanges.count == 1)
        #expect(c.warnings.contains { $0.contains("valid=false") })
    }

    @Test func noCommonCaseIsUsageError() throws {
        let a = ReportFixture.run([ReportFixture.record("process", "pipe", metric: "round_trip", 1000)])
        let b = ReportFixture.run([ReportFixture.record("thread", "pipe", metric: "round_trip", 1000)])
        #expect(throws: SwitchBenchError.self) {
            try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b), currentSource: "b")
        }
    }

    @Test func malformedInputsAreUsageErrors() throws {
        let good = CSVExporter.render(ReportFixture.basic)
        let lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let bad: [String: String] = [
            "empty": "",
            "header only": lines[0] + "\n",
            "not csv": "hello world\n",
            "unknown column": lines[0] + ",extra_col\n" + lines[1] + ",x\n",
            "short row": lines[0] + "\n" + lines[1].split(separator: ",").dropLast(3).joined(separator: ",") + "\n",
            "unterminated quote": lines[0] + "\n\"abc\n",
            "bad integer": lines[0] + "\n" + lines[1].replacingOccurrences(of: ",2,0,,,", with: ",two,0,,,") + "\n",
        ]
        for (name, text) in bad {
            do {
                _ = try RunLoader.parse(text, source: name)
                Issue.record("\(name): parsed without error")
            } catch let e as SwitchBenchError {
                guard case .usage(let m) = e else { Issue.record("\(name): not a usage error"); continue }
                #expect(!m.contains("\n"), "\(name): message is one line")
            }
        }
        // a missing file and a directory without results.csv
        #expect(throws: SwitchBenchError.self) { try RunLoader.load("/nonexistent/switchbench.csv") }
        let dir = NSTemporaryDirectory() + "sb-empty-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: SwitchBenchError.self) { try RunLoader.load(dir) }
    }

    @Test func mannWhitneyKnownValues() throws {
        // Completely separated samples of 5 and 5: U = 0, exact two-sided p = 2/252 ≈ 0.0079;
        // the normal approximation with continuity correction: μ = 12.5, σ = √(25·11/12) = 4.787,
        // z = (0 − 12.5 + 0.5)/4.787 = −2.507, p = erfc(2.507/√2) ≈ 0.0122.
        let r = try #require(MannWhitney.test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]))
        #expect(r.u == 0)
        #expect(abs(r.z + 2.507) < 0.001)
        #expect(abs(r.p - 0.0122) < 0.0002)
        // identical samples: no evidence at all
        let same = try #require(MannWhitney.test([3, 3, 3, 3], [3, 3, 3, 3]))
        #expect(same.p == 1)
        // ties handled: mirrored samples give p = 1
        let mirrored = try #require(MannWhitney.test([1, 2, 2, 3], [1, 2, 2, 3]))
        #expect(mirrored.p > 0.99)
        #expect(MannWhitney.test([1, 2], [3, 4]) == nil)
    }

    @Test func jsonRoundTripsAndBenchmarkActionForm() throws {
        let run = ReportFixture.basic
        let back = try JSONExporter.decode(JSONExporter.render(run))
        #expect(back.records == run.records)
        #expect(back.environment == run.environment)
        let data = Data(BenchmarkActionExporter.render(run).utf8)
        let array = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(array.count == run.records.count)
        for e in array {
            #expect(e["name"] is String)
            #expect(e["unit"] as? String == "ns")
            #expect(e["value"] is NSNumber)
        }
        #expect(Set(array.compactMap { $0["name"] as? String }).count == array.count, "names are unique")
    }
}
