import Foundation
import Testing
@testable import SwitchBench

/// notes.md, the verdicts as data, sentences built from numbers, fitted plot axes (issue 16).
@Suite struct NotesTests {
    static func fixtures() throws -> [RunResult] {
        try (RealRuns.names + [RealRuns.withFacts]).map(RealRuns.load)
    }

    // MARK: notes.md

    @Test func notesHaveTheClassTableTheTwoStepsAndOneSentencePerClaim() throws {
        for run in try Self.fixtures() {
            for lang in Language.allCases {
                let notes = NotesReport.render(run, lang: lang)
                let table = notes.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains("¹") }
                #expect(table.count == 4, "\(run.runID) \(lang): \(table)")
                for row in table { #expect(row.components(separatedBy: "×").count - 1 == 2, "both ratios: \(row)") }
                #expect(notes.contains(lang.t("## The note's two steps", "## 笔记说的两步")))
                #expect(notes.contains(lang.t("Not measured in this run", "本次运行没有测量")))   // no anatomy rows in these CSVs
                let claims = Claims.evaluate(run, lang: lang)
                let sentences = notes.components(separatedBy: lang.t("**What the note should say here:** ", "**笔记在这台机器上应当这样说：**")).count - 1
                #expect(sentences == claims.count)
                #expect(!notes.contains("_Environment") && !notes.contains("_测试环境"))
            }
        }
    }

    @Test func severalRunsGiveAColumnPerMachine() throws {
        let runs = try Self.fixtures()
        let notes = NotesReport.render(runs, labels: ["M1a", "M2", "M1b"], lang: .zh)
        let row = try #require(notes.split(separator: "\n").first { $0.hasPrefix("| 进程切换¹") })
        #expect(row.split(separator: "|").count == 4)   // name + three columns
        #expect(notes.contains("| M2 | **"))
        // several runs: no "this run", the build of each machine, no advice against comparing runs
        #expect(!notes.contains("本次运行") && !notes.contains("不要跨运行比较"))
        for r in runs where !r.environment.build.isEmpty { #expect(notes.contains("`\(r.environment.build)` 构建")) }
        let en = NotesReport.render(runs, labels: ["M1a", "M2", "M1b"], lang: .en)
        #expect(!en.contains("this run") && !en.contains("not across runs"))
        #expect(notes.hasPrefix("# 课程笔记中的说法在这几台机器上的检验"))
        // machines.md's example of a shared number is this page's own (M1a, M1b), never M2a
        let md = MachinesReport.render(runs.map { MachineColumn(run: $0) }, lang: .zh)
        let labels = MachinesReport.labels(runs.map { MachineColumn(run: $0) })
        #expect(!md.contains("M2a") || labels.contains("M2a"))
        for l in labels where l.last?.isLetter == true { #expect(md.contains(l + "、") || md.contains(l + "）")) }
    }

    /// A harness that answers the two-steps hook with one line per run.
    struct StepsHarness: Harness {
        var info: HarnessInfo { HarnessInfo("steps-test", claims: [], summary: "", mechanisms: []) }
        func plan(_ options: RunOptions) -> [CaseSpec] { [] }
        func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] { [] }
        func notesSection(_ runs: [RunResult], lang: Language) -> String? {
            "STEPS " + runs.map(\.runID).joined(separator: " | ")
        }
    }

    @Test func aPlotTheRunDoesNotWriteIsNotLinked() throws {
        struct Linking: Harness {
            var info: HarnessInfo { HarnessInfo("link-test", claims: [], summary: "", mechanisms: []) }
            func plan(_ options: RunOptions) -> [CaseSpec] { [] }
            func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] { [] }
            func notesSection(_ runs: [RunResult], lang: Language) -> String? { "BLOCK\n\n![missing](nowhere.svg)\n\n![tlb](tlb.svg)" }
        }
        let run = try RealRuns.load("epyc-2vcpu-kvm")
        let notes = NotesReport.render([run], labels: [], lang: .en, presenters: [Linking()])
        #expect(notes.contains("BLOCK") && !notes.contains("nowhere.svg") && notes.contains("](tlb.svg)"))
    }

    @Test func aHarnessCanAddItsTwoStepsBlock() throws {
        let runs = try Self.fixtures()
        let with = NotesReport.render(runs, labels: [], lang: .en, presenters: Registry.presenters + [StepsHarness()])
        #expect(with.contains("STEPS " + runs.map(\.runID).joined(separator: " | ")))
        #expect(!with.contains("Not measured in this run (the `anatomy`") && !with.contains("Not measured in these runs (the `anatomy`"))
        let without = NotesReport.render(runs, labels: [], lang: .zh, presenters: [])
        #expect(without.contains("这几次运行都没有测量（`anatomy`"))   // several runs: not "本次运行"
    }

    @Test func theEnvironmentIsWrittenOncePerFile() throws {
        let run = try RealRuns.load("epyc-2vcpu-kvm")
        for lang in Language.allCases {
            let files = RunWriter.files(for: run, lang: lang).filter { $0.name == "results.md" || $0.name == "report.md" }
            #expect(files.map(\.name).sorted() == ["report.md", "results.md"], "\(lang)")
            for f in files {
                let n = f.contents.components(separatedBy: lang.t("_Environment: ", "_测试环境：")).count - 1
                #expect(n == 1, "\(f.name) \(lang): \(n)")
            }
        }
    }

    @Test func aRunRendersEachPlotOnceAndWritesNotes() throws {
        let names = RunWriter.files(for: try RealRuns.load("epyc-2vcpu-kvm")).map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.contains("notes.md") && names.contains("results.json"))
        #expect(RunWriter.reportFiles(for: try RealRuns.load("epyc-2vcpu-kvm")).last?.name == "report.md")
    }

    // MARK: caveats

    @Test func vulnerableMitigationsAreNotPaidFor() {
        var e = Environment.blank
        e.virtualization = "KVM"
        e.mitigations = ["spec_store_bypass: Vulnerable", "spectre_v1: Mitigation: usercopy/swapgs barriers",
                         "tsa: Vulnerable: No microcode", "meltdown: Not affected"]
        let en = NotesReport.caveats(e, .en).joined(separator: "\n")
        let paid = try? #require(en.split(separator: "\n").first { $0.hasPrefix("Mitigations in force") })
        #expect(paid?.contains("spectre_v1") == true)
        #expect(paid?.contains("spec_store_bypass") == false && paid?.contains("tsa") == false)
        #expect(en.contains("(not mitigated, so nothing is paid for them here): `spec_store_bypass`, `tsa`"))
        #expect(!en.contains("meltdown"))
        e.mitigations = ["spec_store_bypass: Vulnerable"]
        #expect(NotesReport.caveats(e, .en).contains { $0.hasPrefix("No CPU vulnerability mitigation is in force") })
        #expect(NotesReport.caveats(e, .zh).allSatisfy { LeakCheck.strictLeaks($0).isEmpty })
    }

    // MARK: verdicts as data

    @Test func resultsJSONCarriesEveryVerdictWithItsDecidingNumbers() throws {
        let run = try RealRuns.load("epyc-2vcpu-kvm")
        let claims = try JSONExporter.claims(JSONExporter.render(run))
        #expect(claims.map(\.id) == Claims.evaluate(run).map(\.id))
        #expect(claims == Claims.verdicts(run))
        for c in claims where c.verdict != .notMeasured {
            #expect(!c.ruleID.isEmpty && !c.deciding.isEmpty, "\(c.id)")
            #expect(c.deciding.allSatisfy { d in c.values.contains(d) })
            #expect(c.adviceEN != nil && c.adviceZH != nil, "\(c.id)")
        }
        // The run itself still decodes from the same file.
        #expect(try JSONExporter.decode(JSONExporter.render(run)).records.count == run.records.count)
        let doc = try JSONSerialization.jsonObject(with: Data(JSONExporter.render(run).utf8)) as? [String: Any]
        let table = try #require(doc?["class_table"] as? [[String: Any]])
        #expect(table.map { $0["row"] as? String } == ["coroutine/asm", "syscall/getppid", "thread/futex", "process/futex"])
    }

    @Test func machinesShowTheNumbersThatDecided() throws {
        // C1 on the dev run: inconclusive; the number beside it is the one that decided, not the first value.
        let run = try RealRuns.load(RealRuns.withFacts)
        let c1 = try #require(Claims.verdicts(run).first { $0.id == "C1" })
        let md = MachinesReport.render([MachineColumn(run: run), MachineColumn(run: try RealRuns.load("epyc-2vcpu-kvm"))], lang: .en)
        let line = try #require(md.split(separator: "\n").first { $0.hasPrefix("| C1 ") })
        for d in c1.deciding { #expect(line.contains("`\(d.name)` " + Format.value(d.value, unit: d.unit))) }
    }

    @Test func noScriptReadsReportMD() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let scripts = root.appendingPathComponent("scripts").path
        // Every Python script, the experiments' too (scripts/experiments/); at least one is read.
        let names = (FileManager.default.subpaths(atPath: scripts) ?? []).filter { $0.hasSuffix(".py") }
        #expect(!names.isEmpty, "no Python script found under \(scripts)")
        for name in names {
            let text = try String(contentsOfFile: "\(scripts)/\(name)", encoding: .utf8)
            #expect(!text.contains("report.md\")") && !text.contains("\"report.md\""), "\(name) reads report.md")
        }
    }

    // MARK: sentences built from numbers

    @Test func theComparativeWordFollowsTheNumbers() {
        let less = TLBHarness.missComparison(twoMiB: 15.8, fourKiB: 21.6, .en)
        let more = TLBHarness.missComparison(twoMiB: 21.6, fourKiB: 15.8, .en)
        #expect(less.contains("15.8 ns with 2 MiB pages, less than the 21.6 ns"))
        #expect(more.contains("21.6 ns with 2 MiB pages, more than the 15.8 ns"))
        #expect(TLBHarness.missComparison(twoMiB: 15.8, fourKiB: 21.6, .zh).contains("比 4 KiB 页的 21.6 ns 少"))
        #expect(TLBHarness.missComparison(twoMiB: 21.6, fourKiB: 15.8, .zh).contains("比 4 KiB 页的 15.8 ns 还多"))
        // C3: a system call dearer than the coroutine switch, then flipped.
        func c3(_ sys: Double) -> String {
            let run = ReportFixture.run([ReportFixture.record("coroutine", "asm", metric: "per_switch", 5),
                                         ReportFixture.record("thread", "futex", metric: "per_switch", 2000),
                                         ReportFixture.record("syscall", "getppid", metric: "per_call", sys)])
            return Claims.evaluate(run).first { $0.id == "C3" }?.advice ?? ""
        }
        #expect(c3(180).contains("even one system call (180 ns) costs more than the coroutine switch"))
        #expect(c3(3).contains("one system call (3.00 ns) costs no more than the coroutine switch"))
    }

    @Test func neverOnlyForAnExactZero() {
        #expect(TLBHarness.faultLine(0, .en).contains("never"))
        #expect(!TLBHarness.faultLine(9.4e-06, .en).contains("never"))
        #expect(!TLBHarness.faultLine(9.4e-06, .zh).contains("从不"))
        #expect(TLBHarness.faultLine(9.4e-06, .en).contains("0.00000940"))
    }

    @Test func threeSignificantDigits() {
        #expect(Format.times(488.12) == "488×")
        #expect(Format.times(48.812) == "48.8×")
        #expect(Format.times(1.0449) == "1.04×")
        #expect(Format.times(9.996) == "10.0×")
        #expect(humanTime(-0.001) == "0 ns")
        #expect(humanTime(-0.0001) == "0 ns")
        #expect(humanTime(184.26) == "184 ns")
        #expect(humanTime(2_615) == "2.62 µs")
        #expect(humanTime(999.7) == "1.00 µs")
        #expect(Format.sig3(0) == "0")
        #expect(Format.sig3(1.7e-14) == "0" && Format.value(1.7e-14, unit: "percent") == "0 %")   // no 0.0000000000000170 % (issue 23)
        #expect(Format.value(4.333, unit: "percent") == "4.33 %")
    }

    // MARK: plots

    /// The largest tick of every numeric axis, and the largest value plotted on it, must be within 2×.
    @Test func axesEndNearTheirData() throws {
        // switch-cost.svg: linear from 0, real ticks (3 to 7), ending a little past the data
        for hi in [2.1, 205.0, 904, 33_213] {
            let axis = SwitchCostPlot.linearAxis(hi)
            #expect(axis.hi >= hi && axis.hi <= hi * 2 && axis.ticks.first == 0 && (3...8).contains(axis.ticks.count), "\(hi): \(axis)")
        }
        for run in try Self.fixtures() {
            let svg = try #require(TLBPlot.render(run))
            let maxData = run.records.filter { $0.harness == "tlb" && $0.metric == "ns_per_access" }.compactMap { $0.stats?.median }.max() ?? 0
            // y tick labels are the `text-anchor="end"` texts left of the axis
            let ticks = svg.split(separator: "\n").filter { $0.contains("text-anchor=\"end\"") && $0.contains("font-size=\"11.0\"") }
                .compactMap { line -> Double? in
                    guard let a = line.lastIndex(of: ">"), let b = line[..<line.index(before: line.endIndex)].lastIndex(of: "<") else { return nil }
                    return Double(line[line.index(after: line[..<b].lastIndex(of: ">")!)..<b])
                }
            _ = ticks.isEmpty
            #expect(!ticks.isEmpty)
            #expect((ticks.max() ?? 0) <= 2 * maxData, "\(run.runID): top tick \(ticks.max() ?? 0) for data up to \(maxData)")
        }
    }

    @Test func tlbTicksSayWhatTheyCount() throws {
        let svg = try #require(TLBPlot.render(TLBFixture.run, lang: .zh))
        // the x axis counts 4 KiB strides, which is the pages only for the 4 KiB curve (issue 23)
        #expect(svg.contains("访问的 4 KiB 步数") && svg.contains("W1、W2"))
        #expect(!svg.contains("Ki<") && !svg.contains(">4k "))
    }

    @Test func chineseSVGsSayWhichFontTheyNeed() throws {
        let files = RunWriter.files(for: try RealRuns.load("epyc-2vcpu-kvm"), lang: .zh)
        #expect(RunWriter.cjkFontNotice(files, lang: .zh)?.contains("fonts-noto-cjk") == true)
        #expect(RunWriter.cjkFontNotice(files, lang: .en) == nil)
    }

    // MARK: no English in Chinese files

    @Test func chineseFilesHaveNoEnglishWords() throws {
        // the Intel run the lecturer read (anatomy rows, the ledger, the side-by-side sentences) too (issue 23)
        let runs = try Self.fixtures() + [try RealRuns.load(RealRuns.many), try RealRuns.load("xeon-2vcpu-kvm")]
        var texts: [(String, String)] = []
        for run in runs {
            for f in RunWriter.files(for: run, lang: .zh) where f.name.hasSuffix(".md") { texts.append(("\(run.runID) \(f.name)", f.contents)) }
            for p in SVGPlots.files(for: run, lang: .zh) {
                let t = p.contents.split(separator: "\n").filter { $0.contains("<text") && !$0.contains("测试环境") }.joined(separator: "\n")
                texts.append(("\(run.runID) \(p.name)", t.replacingOccurrences(of: "<[^>]*>", with: "\n", options: .regularExpression)))
            }
        }
        let cols = runs.map { MachineColumn(run: $0) }
        texts.append(("machines.md", MachinesReport.render(cols, lang: .zh)))
        texts.append(("notes.md (several)", NotesReport.render(runs, labels: MachinesReport.labels(cols), lang: .zh)))
        for (name, text) in texts {
            let leaks = LeakCheck.strictLeaks(text)
            #expect(leaks.isEmpty, "\(name): \(leaks.prefix(12))")
        }
    }

    @Test func strictLeakCheckFindsOneEnglishWord() {
        #expect(LeakCheck.strictLeaks("每次切换 cheaper 更快") == ["cheaper"])
        #expect(LeakCheck.strictLeaks("`same-cpu` 与 TLB、4 KiB 页、2.61 µs").isEmpty)
        #expect(LeakCheck.strictLeaks("> 线程切换只需要第二步 and more").isEmpty)   // the note's quotes are its own
    }

    // MARK: the issue's examples

    @Test func theWordsTheIssueFoundAreGone() throws {
        let runs = try Self.fixtures() + [try RealRuns.load(RealRuns.many)]
        var zh = runs.flatMap { RunWriter.files(for: $0, lang: .zh).filter { $0.name.hasSuffix(".md") || $0.name.hasSuffix(".svg") }.map(\.contents) }
        zh.append(MachinesReport.render(runs.map { MachineColumn(run: $0) }, lang: .zh))
        for text in zh {
            for bad in ["内核切换次数", "便宜", "都轮不到", "睡在内核里", "停着的", "拿到了大页", "从不缺页", "就是切换地址空间多出来的代价",
                        "什么都不做的程序", "更少：页表遍历更短", "每次进出内核都要为它们付出代价"] {
                #expect(!text.contains(bad), "\(bad)")
            }
            // false precision: "0.0000", "-0.00 ns" (a value that rounds to zero printed with its sign and zeros)
            for bad in ["0\\.0000(?![0-9])", "-0\\.00(?![0-9])", "-0 "] {
                #expect(text.range(of: bad, options: .regularExpression) == nil, "\(bad)")
            }
        }
    }

    /// A run whose switch and cross-CPU rows were invalidated (busy neighbours): the class table prints
    /// no ratio from them, the VM caveat does not say the cross-CPU rows were not measured, and a claim
    /// that cannot be decided says so in its sentence (issue 23, item 6's read).
    @Test func invalidRowsGiveNoRatioAndAreNotCalledUnmeasured() throws {
        var run = try RealRuns.load(RealRuns.names[0])
        for i in run.records.indices where ["anatomy", "thread", "process", "tlb"].contains(run.records[i].harness) {
            run.records[i].invalidate("busy neighbours")
        }
        for lang in Language.allCases {
            let notes = NotesReport.render(run, lang: lang)
            let rows = notes.split(separator: "\n").filter { $0.hasPrefix(lang.t("| thread switch¹", "| 线程切换¹")) || $0.hasPrefix(lang.t("| process switch¹", "| 进程切换¹")) }
            #expect(rows.count == 2)
            for r in rows { #expect(!r.contains("×") && r.contains(lang.t("(invalid)", "（无效）")), "\(r)") }
            #expect(!notes.contains(lang.t("no cross-CPU row measured", "没有测跨处理器的数据行")))
            #expect(notes.contains(lang.t("the cross-CPU rows are invalid", "跨处理器的数据行无效")))
            #expect(notes.contains(lang.t("The rows it needs are marked invalid", "判定所需的数据行被标为无效")))
            #expect(!notes.contains(lang.t("Each number below is a median", "下面每个数都是")))
        }
    }

    /// C9's evidence line: a ratio from an invalid row says it is no finding (report.md's "measured").
    @Test func aRatioFromAnInvalidRowSaysItIsNoFinding() throws {
        var run = try RealRuns.load("xeon-2vcpu-kvm")
        for i in run.records.indices where run.records[i].harness == "events" { run.records[i].invalidate("busy neighbours") }
        for lang in Language.allCases {
            let c9 = try #require(Claims.evaluate(run, lang: lang).first { $0.id == "C9" })
            let ratio = try #require(c9.measured.first { $0.contains("÷ `asm`") || $0.contains("÷ asm") })
            #expect(ratio.contains(lang.t("no finding", "不作结论")), "\(ratio)")
        }
    }

    /// AVX-512's paired difference whose interval contains 0 (the Xeon fixture: 21.8 ns, -15.4 … 58.7 ns)
    /// is said to be within noise in the two-step table and results.md, never "adds"; an invalid one is no finding.
    @Test func aDifferenceWithinItsNoiseIsSaidSo() throws {
        var run = try RealRuns.load("xeon-2vcpu-kvm")
        for lang in Language.allCases {
            let notes = NotesReport.render(run, lang: lang)
            let row = try #require(notes.split(separator: "\n").first { $0.contains("avx512 dirty_minus_clean") })
            #expect(row.contains(lang.t("within noise", "在噪声以内")), "\(row)")
            let hw = try #require(AnatomyHarness.hardwareText(run, lang))
            #expect(hw.contains(lang.t("no difference beyond noise", "没有超出噪声的差别")) && !hw.contains(lang.t("adds", "每次切换多花")), "\(hw)")
        }
        for i in run.records.indices where run.records[i].mechanism == "avx512" { run.records[i].invalidate("busy neighbours") }
        #expect(AnatomyHarness.hardwareText(run, .zh)?.contains("不作结论") == true)
    }

    /// Several runs that took one idea from different rows (paired yield here, the futex ring there): the
    /// ledger gives each definition its own line, and each value stands on the line of its own row.
    @Test func theLedgerNamesEachRunsOwnRow() throws {
        let runs = try ["xeon-2vcpu-kvm", "xeon-16vcpu-kvm"].map(RealRuns.load)
        for lang in Language.allCases {
            let notes = NotesReport.render(runs, labels: ["M1", "M2"], lang: lang)
            let ledger = try #require(notes.components(separatedBy: lang.t("## Where each number on this page comes from", "## 本页的数从哪里来")).last)
            let lines = ledger.split(separator: "\n").filter { $0.hasPrefix(lang.t("| thread switch |", "| 线程切换 |")) }
            #expect(lines.count == 2, "\(lines)")
            let yield = try #require(lines.first { $0.contains("anatomy/yield") }), ring = try #require(lines.first { $0.contains("thread/futex") })
            #expect(yield.hasSuffix("| – |") && ring.contains("| – |"), "\(yield)\n\(ring)")
        }
    }

    /// C6 says "as the note says" only for what it measured: without what exit frees, the note's
    /// "内核立即回收一部分资源" is said to be unchecked.
    @Test func c6AgreesOnlyWithWhatItMeasured() throws {
        let run = try RealRuns.load(RealRuns.names[0])
        for lang in Language.allCases {
            let c6 = try #require(Claims.evaluate(run, lang: lang).first { $0.id == "C6" })
            let advice = try #require(c6.advice)
            #expect(advice.contains("内核立即回收一部分资源"), "\(advice)")
            #expect(advice.contains(lang.t("not checked", "没有检验")))
        }
    }

    @Test func crossCPURowsAreWakeUpLatencyNotSwitchCost() throws {
        let run = try RealRuns.load("epyc-2vcpu-kvm")
        let md = try #require(TokenRingHarness(kind: .process).markdownSection(run, lang: .zh))
        let switchTable = md.components(separatedBy: "**跨处理器唤醒延迟")[0]
        #expect(!switchTable.contains("跨处理器"))
        #expect(md.contains("**跨处理器唤醒延迟（不是切换的代价）。**"))
    }

    @Test func claimsDecideByTheirEvidence() throws {
        let run = try RealRuns.load("epyc-2vcpu-kvm")
        let v = Dictionary(uniqueKeysWithValues: Claims.verdicts(run).map { ($0.id, $0) })
        #expect(v["C6"]?.deciding.map(\.name) == ["zombie_state_before_waitpid", "reaped_after_waitpid"])
        #expect(v["C4"]?.deciding.first?.name == "turns_during_blocking_read" && v["C4"]?.deciding.first?.value == 0)
        #expect(v["C4"]?.ruleID == "C4.turns.v2")
        #expect(v["C3"]?.adviceEN?.contains("`ucontext` coroutine switch") == true)
        // C1 inconclusive with PCID: the lesson is that step 1 is cheap
        let dev = try RealRuns.load(RealRuns.withFacts)
        let c1 = try #require(Claims.verdicts(dev).first { $0.id == "C1" })
        if c1.verdict == .inconclusive, dev.environment.pcid { #expect(c1.adviceEN?.contains("PCID") == true) }
    }
}
