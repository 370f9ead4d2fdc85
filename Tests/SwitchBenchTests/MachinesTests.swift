import Foundation
import Testing
@testable import SwitchBench

/// Machines side by side (machines.md) from the two real runs in Fixtures/runs plus synthetic runs.
@Suite struct MachinesTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/runs")
    static var xeon: String { fixtures.appendingPathComponent("xeon-16vcpu-kvm").path }
    static var epyc: String { fixtures.appendingPathComponent("epyc-2vcpu-kvm").path }

    /// A run of a made-up machine with only syscall and thread pipe rows (no tlb, no create, no futex ring).
    static func small(cpu: String = "Test CPU", runID: String = "20260101T000000Z-testhost") -> RunResult {
        var run = ReportFixture.run([
            ReportFixture.record("syscall", "getppid", metric: "per_call", 90, tasks: 1),
            ReportFixture.record("syscall", "clock_gettime", metric: "per_call", 20, tasks: 1),
            ReportFixture.record("thread", "pipe", metric: "per_switch", 2000),
        ])
        run.environment.cpuModel = cpu
        run.runID = runID
        return run
    }

    static func columns(_ paths: [String]) throws -> [MachineColumn] {
        try paths.flatMap { p in try MachineRuns.load(p).map { MachineColumn(run: $0, source: p) } }
    }

    /// The table under "## heading": rows of cells (header first, separator dropped).
    static func table(_ md: String, _ heading: String) -> [[String]] {
        let lines = md.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "## " + heading) else { return [] }
        let rows = lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
        return rows.map { line in
            line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
        }.filter { !$0.allSatisfy { $0 == "---" } }
    }

    static func row(_ t: [[String]], startingWith name: String) -> [String]? {
        t.first { $0.first?.hasPrefix(name) == true }
    }

    @Test func threeColumnsAndTheHugePageVerdictsTheRunsGive() throws {
        var cols = try Self.columns([Self.xeon, Self.epyc])
        cols.append(MachineColumn(run: Self.small(), source: "synthetic"))
        #expect(MachinesReport.labels(cols) == ["M1", "M2", "M3"])

        // typed: the harness's own rule on the numeric ratio row
        guard case .value(let x) = cols[0].hugePages, case .reachGain(let f) = x.outcome else {
            Issue.record("Xeon: expected a reach gain, got \(cols[0].hugePages)")
            return
        }
        #expect(abs(f - 234.057) < 0.01)
        #expect(cols[1].hugePages.value?.outcome == .noReachGain)
        #expect(cols[2].hugePages == .notMeasured)

        let md = MachinesReport.render(cols)
        for heading in ["Fingerprint", "Claim verdicts", "Switch cost by kind", "TLB reach per level", "Creation costs"] {
            let t = Self.table(md, heading)
            #expect(!t.isEmpty, "\(heading)")
            #expect(t.allSatisfy { $0.count == 4 }, "\(heading): a name column and three machine columns")
            #expect(t.first.map { Array($0.dropFirst()) } == ["M1", "M2", "M3"], "\(heading)")
        }
        let huge = try #require(Self.row(Self.table(md, "TLB reach per level"), startingWith: "**huge pages"))
        #expect(huge[1] == "extend the first-level reach 234×")
        #expect(huge[2].hasPrefix("no reach gain (1.00×)"))
        #expect(huge[3] == "not measured")
        let l1 = try #require(Self.row(Self.table(md, "TLB reach per level"), startingWith: "4 KiB pages: L1 dTLB"))
        #expect(l1[1].hasPrefix("70 pages") && l1[2].hasPrefix("72 pages"))
        let fp = Self.table(md, "Fingerprint")
        #expect(Self.row(fp, startingWith: "CPU model")?.dropFirst().map { $0 } ==
                ["`Intel(R) Xeon(R) Processor`", "`AMD EPYC`", "`Test CPU`"])
        // old CSVs have no online_cpus column: shown as unknown; the synthetic run knows "0-1"
        #expect(Self.row(fp, startingWith: "online CPUs")?.dropFirst().map { $0 } == ["not recorded", "not recorded", "2 (`0-1`)"])
    }

    @Test func aHarnessAbsentFromARunIsNotMeasured() throws {
        var cols = try Self.columns([Self.epyc])
        cols.append(MachineColumn(run: Self.small(), source: "synthetic"))
        let s = cols[1]
        #expect(s.switchCost(try #require(SwitchKind.named("syscall/getppid"))).value != nil)
        #expect(s.switchCost(try #require(SwitchKind.named("thread/pipe"))).value?.median == 2000)
        #expect(s.switchCost(try #require(SwitchKind.named("thread/futex"))) == .missing)          // the harness ran, this row did not
        #expect(s.switchCost(try #require(SwitchKind.named("process/pipe"))) == .notMeasured)
        #expect(s.switchCost(try #require(SwitchKind.named("coroutine/asm"))) == .notMeasured)
        #expect(s.tlbReach == .notMeasured)
        #expect(s.creationCosts.value == nil)
        #expect(s.verdicts.first { $0.id == "C5" }?.verdict == .notMeasured)
        #expect(s.verdicts.first { $0.id == "C7" }?.verdict == .holds)

        let md = MachinesReport.render(cols)
        let create = Self.table(md, "Creation costs")
        #expect(create.count == 8)   // header + six kinds of the EPYC run + the zombie check
        #expect(create.dropFirst().allSatisfy { $0[2] == "not measured" && $0[1] != "not measured" })
        let claims = Self.table(md, "Claim verdicts")
        #expect(Self.row(claims, startingWith: "C5")?[2] == "not measured")
        #expect(Self.row(claims, startingWith: "C7")?[2].hasPrefix("**holds** (") == true)   // the verdict and its first number
        let kinds = Self.table(md, "Switch cost by kind")
        #expect(Self.row(kinds, startingWith: "thread switch (`futex`)")?[2] == "–")
        #expect(Self.row(kinds, startingWith: "process switch (`pipe`)")?[2] == "not measured")
    }

    @Test func oneCSVHoldingTwoRunsGivesTwoColumns() throws {
        let a = try String(contentsOfFile: Self.xeon + "/results.csv", encoding: .utf8)
        let b = try String(contentsOfFile: Self.epyc + "/results.csv", encoding: .utf8)
        let runs = try MachineRuns.parse(a + b, source: "fleet.csv")   // `cat a b`: header repeated
        #expect(runs.count == 2)
        #expect(runs.map(\.records.count) == [733, 739])
        #expect(runs.map(\.environment.host) == ["vm", "vm"])
        let md = MachinesReport.render(runs.map { MachineColumn(run: $0) })
        #expect(Self.table(md, "Claim verdicts").first == ["claim", "M1", "M2"])

        // rows of two runs under one header
        let one = CSVExporter.render(Self.small(runID: "r1"))
        let two = CSVExporter.render(Self.small(cpu: "Other CPU", runID: "r2")).split(separator: "\n").dropFirst()
            .joined(separator: "\n") + "\n"
        #expect(try MachineRuns.parse(one + two, source: "two.csv").map(\.runID) == ["r1", "r2"])

        // pieces with different headers (columns in another order): each piece read with its own header
        let lines = b.split(separator: "\n", omittingEmptySubsequences: false)
        let rows = try CSV.parse(lines.prefix(4).joined(separator: "\n"))
        let reordered = rows.map { Array($0.reversed()) }.map(CSV.line).joined(separator: "\n") + "\n"
        let mixed = try MachineRuns.parse(a + reordered, source: "mixed.csv")
        #expect(mixed.count == 2)
        #expect(mixed.map(\.records.count) == [733, 3])
        #expect(mixed[1].environment.cpuModel == "AMD EPYC")
    }

    @Test func sameHostNameDifferentFingerprintsAreTwoColumns() throws {
        let cols = try Self.columns([Self.xeon, Self.epyc])
        #expect(cols.map(\.run.environment.host) == ["vm", "vm"])
        #expect(cols[0].fingerprint != cols[1].fingerprint)
        #expect(MachinesReport.labels(cols) == ["M1", "M2"])

        // same host, same run id, only the CPU differs: still two runs, two machines
        let text = CSVExporter.render(Self.small()) + CSVExporter.render(Self.small(cpu: "Other CPU"))
        let runs = try MachineRuns.parse(text, source: "same-host.csv")
        #expect(runs.count == 2)
        #expect(MachinesReport.labels(runs.map { MachineColumn(run: $0) }) == ["M1", "M2"])
        // and the same fingerprint twice is one machine with two runs
        let again = [MachineColumn(run: Self.small(runID: "a")), MachineColumn(run: Self.small(runID: "b"))]
        #expect(MachinesReport.labels(again) == ["M1a", "M1b"])
    }

    @Test func chineseHeadingsAndTerms() throws {
        var cols = try Self.columns([Self.xeon, Self.epyc])
        cols.append(MachineColumn(run: Self.small(), source: "synthetic"))
        let zh = MachinesReport.render(cols, lang: .zh)
        for heading in ["# 多台机器对比", "## 机器指纹", "## 各条说法的结论", "## 各类切换的代价", "## 快表（TLB）各级覆盖范围", "## 创建代价"] {
            #expect(zh.contains("\n" + heading + "\n") || zh.hasPrefix(heading + "\n"), "\(heading)")
        }
        for term in ["进程切换", "线程切换", "协程", "快表", "特权级切换", "僵尸进程", "未测量", "成立"] {
            #expect(zh.contains(term), "\(term)")
        }
        #expect(!zh.contains("## Fingerprint") && !zh.contains("not measured"))
        let huge = try #require(Self.row(Self.table(zh, "快表（TLB）各级覆盖范围"), startingWith: "**大页"))
        #expect(huge[1].contains("234×") && huge[2].hasPrefix("覆盖范围没有扩大（1.00×）") && huge[3] == "未测量")
        // no English sentence outside code spans: no run of three or more English words
        let prose = zh.replacingOccurrences(of: "`[^`]*`", with: "", options: .regularExpression)
        let leak = prose.range(of: "[A-Za-z]{2,}([ ,()]+[A-Za-z]{2,}){2,}", options: .regularExpression)
        #expect(leak == nil, "English in zh output: \(leak.map { String(prose[$0]) } ?? "")")
        // the same verdicts in both languages (one evaluation, two renderings)
        let en = MachinesReport.render(cols, lang: .en)
        let enClaims = Self.table(en, "Claim verdicts").dropFirst().map { Array($0.dropFirst()) }
        let zhClaims = Self.table(zh, "各条说法的结论").dropFirst().map { Array($0.dropFirst()) }
        // the verdict word before the bracketed number, mapped through Claims.Verdict.text
        func word(_ cell: String) -> String { cell.components(separatedBy: " (").first!.components(separatedBy: "（").first!.replacingOccurrences(of: "*", with: "") }
        let map = Dictionary(uniqueKeysWithValues: Claims.Verdict.allCases.map { ($0.text(.en), $0.text(.zh)) })
        #expect(!enClaims.isEmpty)
        #expect(enClaims.map { $0.map { map[word($0)] ?? "?" } } == zhClaims.map { $0.map(word) })
    }
}

/// `switchbench report A B C` as a user runs it: a fresh short run of this machine beside the two fixtures.
extension ProcessSpawningTests {
@Suite struct SideBySideCLITests {
    @Test func reportOfThreeRunsWritesMachinesMarkdown() throws {
        let dir = try CompareCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (mine, _) = try CLITests.run(["run", "syscall", "--quick", "--output", dir + "/mine"])
        #expect(mine.status == 0, "\(mine.stderr)")

        let (r, _) = try CLITests.run(["report", MachinesTests.xeon, MachinesTests.epyc, dir + "/mine", "--output", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        let file = try String(contentsOfFile: dir + "/out/machines.md", encoding: .utf8)
        #expect(file == r.stdout)
        let claims = MachinesTests.table(file, "Claim verdicts")
        #expect(claims.first?.count == 4)   // a name column and three runs (this machine may share the EPYC fixture's fingerprint: M2a, M2b)
        #expect(MachinesTests.row(claims, startingWith: "C7")?[3] != "not measured")
        #expect(MachinesTests.row(claims, startingWith: "C5")?[3] == "not measured")
        #expect(r.stderr.contains("(3 runs, "))

        let (zh, _) = try CLITests.run(["report", MachinesTests.xeon, MachinesTests.epyc, "--lang", "zh", "--output", dir + "/zh"])
        #expect(zh.status == 0, "\(zh.stderr)")
        #expect(zh.stdout.contains("## 机器指纹"))

        // one run: report.md and plots as before
        let (one, _) = try CLITests.run(["report", MachinesTests.epyc, "--output", dir + "/one"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/one/report.md"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/one/machines.md"))

        // one CSV holding two runs: side by side
        let a = try String(contentsOfFile: MachinesTests.xeon + "/results.csv", encoding: .utf8)
        let b = try String(contentsOfFile: MachinesTests.epyc + "/results.csv", encoding: .utf8)
        try (a + b).write(toFile: dir + "/fleet.csv", atomically: true, encoding: .utf8)
        let (fleet, _) = try CLITests.run(["report", dir + "/fleet.csv", "--output", dir + "/fleet"])
        #expect(fleet.status == 0, "\(fleet.stderr)")
        #expect(MachinesTests.table(fleet.stdout, "Claim verdicts").first == ["claim", "M1", "M2"])

        let (bad, _) = try CLITests.run(["report", MachinesTests.xeon, MachinesTests.epyc, "--lang", "fr"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("switchbench: error: ") && bad.stderr.split(separator: "\n").count == 1)
    }
}
}

/// The typed facts machines.md reads: the huge-page outcome and grant, the online CPU count of new CSVs,
/// the claim ids as the registry gives them, one notion of "same machine", the exec'ed program.
extension MachinesTests {
    /// A tlb run with the fact rows of one 2 MiB outcome, as the harness writes them.
    static func hugeRun(outcome: TLBAnalysis.HugeOutcome, ratio: Double, grant: HugeGrant?) -> RunResult {
        let small = ReportFixture.record("tlb", "4k", metric: "reach_pages", 64, tasks: 1, unit: "pages", parameters: [CaseParameter(.tlbLevel, 1)])
        var huge = ReportFixture.record("tlb", "2m", metric: "reach_pages", 64 * ratio, tasks: 1, unit: "pages", parameters: [CaseParameter(.tlbLevel, 1)])
        if let grant { huge.setFact(HugeGrant.key, grant.rawValue) }
        var r = ReportFixture.record("tlb", "2m", metric: "huge_page_reach_ratio", ratio, tasks: 1, unit: "ratio")
        r.setFact(TLBAnalysis.HugeOutcome.key, outcome.token)
        var run = ReportFixture.run([small, huge, r])
        run.runID = outcome.token
        return run
    }

    @Test func notGrantedIsToldFromNoReachGain() throws {
        // both have the 2m knee where the 4k one is (ratio 1): only the facts tell them apart
        let notGranted = MachineColumn(run: Self.hugeRun(outcome: .notGranted, ratio: 1, grant: .partial))
        let noGain = MachineColumn(run: Self.hugeRun(outcome: .noReachGain, ratio: 1, grant: .granted))
        let partlyGranted = MachineColumn(run: Self.hugeRun(outcome: .reachGain(200), ratio: 200, grant: .partial))
        #expect(notGranted.hugePages.value?.outcome == .notGranted)
        #expect(notGranted.hugePages.value?.grant == .partial)
        #expect(noGain.hugePages.value?.outcome == .noReachGain)
        #expect(noGain.hugePages.value?.grant == .granted)

        for lang in [Language.en, .zh] {
            let md = MachinesReport.render([notGranted, noGain, partlyGranted], lang: lang)
            let huge = try #require(Self.row(Self.table(md, lang.t("TLB reach per level", "快表（TLB）各级覆盖范围")),
                                             startingWith: lang.t("**huge pages", "**大页")))
            #expect(huge[1] == lang.t("not granted: the 2 MiB curve is a 4 KiB curve", "内核没有分配大页：2 MiB 曲线其实是 4 KiB 页的曲线"))
            #expect(huge[2].hasPrefix(lang.t("no reach gain (1.00×)", "覆盖范围没有扩大（1.00×）")))
            #expect(huge[3].contains("200×") && huge[3].hasSuffix(lang.t(" (huge pages not fully granted)", "（大页没有全部分配到）")))
        }
        // the same ratio in an old CSV (no facts column) is judged by the harness's rule: no reach gain
        var old = Self.hugeRun(outcome: .notGranted, ratio: 1, grant: nil)
        for i in old.records.indices { old.records[i].facts = nil }
        #expect(MachineColumn(run: old).hugePages.value?.outcome == .noReachGain)
    }

    @Test func onlineCPUsOfANewCSVAreShownAndTellMachinesApart() throws {
        func csvRun(online: Int?, runID: String) throws -> RunResult {
            var run = Self.small(runID: runID)
            run.environment.onlineCPUs = ""          // a CSV carries the count only
            run.environment.onlineCPUCount = online
            let text = CSVExporter.render(run)
            #expect(try CSV.parse(text)[0].contains("online_cpus"))
            return try #require(try MachineRuns.parse(text, source: "\(runID).csv").first)
        }
        let sixteen = try csvRun(online: 16, runID: "r16"), two = try csvRun(online: 2, runID: "r2")
        let unknown = try csvRun(online: nil, runID: "rold")
        #expect(sixteen.environment.onlineCPUCount == 16 && unknown.environment.onlineCPUCount == nil)
        let cols = [sixteen, two, unknown].map { MachineColumn(run: $0) }
        let md = MachinesReport.render(cols)
        #expect(Self.row(Self.table(md, "Fingerprint"), startingWith: "online CPUs")?.dropFirst().map { $0 } == ["16", "2", "not recorded"])
        // 16 and 2 online CPUs of one CPU model: two machines (compare: not comparable); the run that did not
        // record the count is a third (compare: unknown is not the same, exit 3)
        #expect(MachinesReport.labels(cols) == ["M1", "M2", "M3"])
        let zh = MachinesReport.render(cols, lang: .zh)
        #expect(Self.row(Self.table(zh, "机器指纹"), startingWith: "在线处理器")?.dropFirst().map { $0 } == ["16", "2", "未记录"])
        // the environment line under every table uses the count too
        #expect(EnvironmentText.line(sixteen.environment, lang: .en).contains("16 online"))
    }

    @Test func claimIDsComeFromTheRegistryNotAList() throws {
        let cols = try Self.columns([Self.xeon, Self.epyc])
        let ids = Set(cols.flatMap { Claims.verdicts($0.run).map(\.id) })
        #expect(ids.count >= 7)
        let rows = Self.table(MachinesReport.render(cols), "Claim verdicts").dropFirst()
        let shown = rows.map { $0[0].components(separatedBy: " ")[0] }
        #expect(Set(shown) == ids && shown.count == ids.count)
        #expect(shown == shown.sorted { $0.localizedStandardCompare($1) == .orderedAscending })
        for row in rows {
            let title = try #require(Claims.title(row[0].components(separatedBy: " ")[0], lang: .en))
            #expect(row[0].hasSuffix(title))
        }
        // the side-by-side code names no claim id: every id comes from Claims.verdicts
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/SwitchBench/Report")
        for file in ["Machines.swift", "MachinesMarkdown.swift"] {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            #expect(text.range(of: "\"C[0-9]", options: .regularExpression) == nil, "\(file) names a claim id")
        }
    }

    @Test func oneNotionOfSameMachineForCompareAndMachines() throws {
        let base = ReportFixture.basic.records, slower = MachineFixtures.slowerRecords
        let pairs: [(RunResult, RunResult)] = [
            (MachineFixtures.run(base, cpuModel: "Intel(R) Xeon(R) Processor"), MachineFixtures.run(slower, cpuModel: "AMD EPYC")),
            (MachineFixtures.run(base, online: 16), MachineFixtures.run(slower, online: 2)),
            (MachineFixtures.run(base, online: nil), MachineFixtures.run(slower, online: 2)),
            (MachineFixtures.run(base, kernel: "6.8.0-old"), MachineFixtures.run(slower, kernel: "6.18.0-new")),
        ]
        for (a, b) in pairs {
            let c = try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b), currentSource: "b")
            let labels = MachinesReport.labels([MachineColumn(run: a), MachineColumn(run: b)])
            #expect(c.comparable == a.environment.sameMachine(as: b.environment))
            #expect((labels == ["M1a", "M1b"]) == c.comparable, "\(labels)")
        }
    }

    @Test func theExecedProgramIsShownWithTheCreationCost() throws {
        let cols = try Self.columns([Self.xeon, Self.epyc])
        let md = MachinesReport.render(cols)
        let exec = try #require(Self.row(Self.table(md, "Creation costs"), startingWith: "process: `fork` + `execve`"))
        #expect(exec[1].hasSuffix(" (`/bin/true`)") && exec[2].hasSuffix(" (`switchbench`)"))
        let zombie = try #require(Self.row(Self.table(md, "Creation costs"), startingWith: "zombie"))
        #expect(zombie[1] == "`Z` → gone (reaped)" && zombie[2] == "`Z` → gone (reaped)")
        // zh: the state in words, the program in Chinese parentheses (no English word, no ASCII brackets)
        let zh = MachinesReport.render(cols, lang: .zh)
        #expect(zh.contains("`Z` → 已回收，/proc 里没有了") && !zh.contains("`gone`") && zh.contains("（`switchbench`）"))
        // a new row carries it as a fact, whatever its note says
        var r = ReportFixture.record("create", "fork-exec", metric: "create_cleanup", 500_000, tasks: 1)
        r.setFact(ExecProgram.key, ExecProgram.binTrue.rawValue)
        r.note = "the suite's own binary"
        #expect(ExecProgram.of(r) == .binTrue)
    }
}
