import Foundation
import Testing
@testable import SwitchBench

/// The ledger (one number per idea on a page) and the words chosen by numbers (issue 23).
@Suite struct LedgerTests {
    /// Runs of both CPU vendors: the Intel run the lecturer read (with the `anatomy` rows) and the AMD one.
    static let vendors = ["xeon-2vcpu-kvm", "epyc-2vcpu-kvm"]

    /// Fixed numbers the pages may print that are no run's: the kernel's and hardware's constants with
    /// their source in docs/sources.md, the rule thresholds of docs/claims.md, units' sizes.
    static let constants: Set<String> = ["0", "1", "2", "4", "6", "10", "15", "24", "95", "32", "8", "64", "3", "5", "1.00", "2.0"]

    /// Every way the pages print a number.
    static func spellings(_ v: Double) -> [String] {
        var out = [Format.sig3(v), Format.sig2(v), Format.sig3(v * 100), Format.sig3(v / 1e3), Format.sig3(v / 1e6),
                   String(format: "%.0f", v), String(format: "%.1f", v), String(format: "%.2f", v), String(format: "%.3f", v),
                   String(format: "%.0f", v * 100), String(format: "%.1f", v * 100), Format.sig3(v / 1024), Format.sig2(v / 1024),
                   Format.sig3(v / 1_048_576), Format.sig2(v / 1_048_576)]
        out += out.map { $0.replacingOccurrences(of: ",", with: "") }
        if v >= 1, v < 1e6, v == v.rounded() { out.append(ManyFormat.count(Int(v))) }
        return out
    }

    /// The numbers a run may print: the ledger's, their ratios and differences (ratios the ledger
    /// defines), every claim's typed values (and their inverses) and the two-step table's, and the run's
    /// case parameters.
    static func allowed(_ run: RunResult) -> Set<String> {
        var values: [Double] = []
        let ledger = Ledger.of(run)
        let ideas = ledger.entries.map(\.value)
        values += ideas
        for a in ideas { for b in ideas where b != 0 { values += [a / b, a - b, (a - b) / b] } }
        for o in Claims.verdicts(run) { values += o.values.flatMap { [$0.value, $0.value != 0 ? 1 / $0.value : 0] } }
        if let a = SwitchAnatomy.of(run) {
            let parts = a.parts(.en).compactMap(\.ns) + [a.processSwitch, a.predictedFutex, a.measuredFutex, a.predictionRatio].compactMap { $0 }
            values += parts
            if let p = a.predictedFutex, let m = a.measuredFutex { values += [m - p, (m - p) / m] }
        }
        // The case parameters (N, pages, samples, bytes touched, the kernel's counts); never a row's median
        // by itself: a number a sentence prints is the ledger's or a claim's typed value.
        for r in run.records {
            values += [Double(r.tasks), Double(r.samples), Double(r.footprintBytes)] + [r.workingSetPages.map(Double.init), r.switchesPerOp].compactMap { $0 }
        }
        return Set(values.flatMap(spellings)).union(constants)
    }

    /// The prose of a page: its lines outside tables, headings, quotes, plots and the machine lines,
    /// with code spans and identifiers removed.
    static func prose(_ page: String) -> [String] {
        page.split(separator: "\n").map(String.init).filter { l in
            !(l.hasPrefix("|") || l.hasPrefix("#") || l.hasPrefix(">") || l.hasPrefix("![") || l.hasPrefix("**Machine") || l.hasPrefix("**机器")
              || l.hasPrefix("- **M") || l.hasPrefix("- 生效") || l.hasPrefix("- Mitigations") || l.hasPrefix("- 处于") || l.hasPrefix("- In `prctl`"))
        }.map { l in
            l.replacingOccurrences(of: "`[^`]*`", with: "", options: .regularExpression)
             .replacingOccurrences(of: "docs/sources.md", with: "")
        }
    }

    static func numbers(_ line: String) -> [String] {
        let re = try! NSRegularExpression(pattern: "(?<![A-Za-z_\\d.])\\d{1,3}(?: \\d{3})+(?![\\d.])|(?<![A-Za-z_\\d.])\\d+(?:[.,]\\d+)*(?![A-Za-z_\\d])")
        return re.matches(in: line, range: NSRange(line.startIndex..., in: line)).compactMap { Range($0.range, in: line).map { String(line[$0]) } }
    }

    /// notes.md of each vendor's fixture run, in each language.
    static func pages() throws -> [(name: String, run: RunResult, lang: Language, page: String)] {
        try vendors.flatMap { name in
            let run = try RealRuns.load(name)
            return Language.allCases.map { (name, run, $0, NotesReport.render(run, lang: $0)) }
        }
    }

    @Test func everyNumberInProseIsALedgerValueOrARatioOfOne() throws {
        for (name, run, lang, page) in try Self.pages() {
            let ok = Self.allowed(run)
            for line in Self.prose(page) {
                for n in Self.numbers(line) {
                    #expect(ok.contains(n) || ok.contains(n.replacingOccurrences(of: ",", with: "")), "\(name) \(lang): \(n) in: \(line)")
                }
            }
        }
    }

    @Test func noIdeaIsPrintedWithTwoValues() throws {
        for (name, run, lang, page) in try Self.pages() {
            for e in Ledger.of(run).entries {
                let term = NSRegularExpression.escapedPattern(for: Terms.t(e.term, lang))
                // the term, then at once its time: "线程切换（727 ns）", "thread switch (727 ns)", "线程切换要 727 ns", "a thread switch costs 727 ns"
                let re = try NSRegularExpression(pattern: "(?<!` )(?<!`)" + term + "(?:¹)?(?: \\(|（| costs | takes |要 ?)(\\d+(?:\\.\\d+)?) (ns|µs|ms)")
                for m in re.matches(in: page, range: NSRange(page.startIndex..., in: page)) {
                    let printed = String(page[Range(m.range(at: 1), in: page)!]) + " " + String(page[Range(m.range(at: 2), in: page)!])
                    #expect(printed == humanTime(e.value), "\(name) \(lang): \(Terms.t(e.term, lang)) printed as \(printed), the ledger says \(humanTime(e.value))")
                }
            }
        }
    }

    @Test func theClassTableAndC1ReadOnePair() throws {
        let run = try RealRuns.load("xeon-2vcpu-kvm")
        let ledger = Ledger.of(run)
        #expect(ledger[.processSwitch]?.record?.harness == "anatomy" && ledger[.threadSwitch]?.record?.harness == "anatomy")
        let c1 = try #require(Claims.verdicts(run).first { $0.id == "C1" })
        let paired = try #require(c1.values.first { $0.name == "yield.process_over_thread" }?.value)
        let table = try #require(ledger.value(.processSwitch)) / (try #require(ledger.value(.threadSwitch)))
        // the same rows: the ratio of medians and the median of ratios agree within a few %
        #expect(abs(table / paired - 1) < 0.05, "\(table) vs \(paired)")
        #expect(c1.verdict == .holds && table > 1)
        // results.json's class table is the ledger's, with a count per switch (never 2 per switch)
        let json = JSONExporter.classTable(run)
        #expect(json.map(\.medianNs) == ledger.classTable.map { $0?.entry.value })
        #expect(json.compactMap(\.kernelSwitchesPerSwitch).allSatisfy { $0 < 1.1 })
        // a run without the anatomy rows falls back to the futex ring, said in one line
        let amd = try RealRuns.load("epyc-2vcpu-kvm")
        #expect(Ledger.of(amd)[.processSwitch]?.record?.harness == "process")
        #expect(NotesReport.render(amd, lang: .en).contains("were not measured in this run, so the thread and process switch are the futex ring's"))
    }

    @Test func oneRowFinder() throws {
        // nothing else in the report looks rows up its own way through `records.first` over the whole run
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/SwitchBench/Report")
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") && file != "Ledger.swift" {
            let text = try String(contentsOfFile: dir.appendingPathComponent(file).path, encoding: .utf8)
            #expect(!text.contains("run.records.first {"), "\(file)")
        }
    }

    // MARK: words from numbers (flip tests: each rule's word changes when its number crosses the line)

    @Test func shareWords() {
        #expect(Words.share(451, of: 904, .zh) == "约一半")          // 49.9 %: never 大部分
        #expect(Words.share(451, of: 904, .en) == "about half")
        #expect(Words.share(600, of: 904, .zh) == "大部分")          // 66 %
        #expect(Words.share(300, of: 904, .zh) == "不到一半")        // 33 %
        #expect(Words.share(100, of: 904, .zh) == "一小部分")        // 11 %
        #expect(Words.share(0.56, of: 1, .en) == "most" && Words.share(0.55, of: 1, .en) == "about half")
    }

    @Test func magnitudeWords() {
        #expect(Words.magnitude(33_213, .zh) == "几十微秒（33.2 µs）")   // never a fixed 几微秒 beside 33 µs
        #expect(Words.magnitude(3_321, .zh) == "几微秒（3.32 µs）")
        #expect(Words.magnitude(332, .en) == "hundreds of nanoseconds (332 ns)")
        #expect(Words.magnitude(332_000, .en).hasPrefix("hundreds of microseconds"))
        #expect(Words.magnitude(16_900, .zh) == "十几微秒（16.9 µs）")   // never 几十 beside 16.9 µs
        #expect(Words.magnitude(16_900, .en).hasPrefix("over ten microseconds"))
    }

    @Test func conditionWords() {
        #expect(Words.condition("N", [(10, false), (100, true), (1000, true)], .zh) == "N = 100、1 000 时成立，N = 10 时不成立")
        #expect(Words.condition("N", [(10, true), (1000, true)], .en) == "at every N measured (10, 1 000)")
        #expect(Words.condition("N", [(10, false)], .en) == "at no N measured (10)")
    }

    @Test func comparativeWords() {
        #expect(Words.comparative(1.57, 1.53, .en) == "about the same")
        #expect(Words.comparative(2.0, 1.53, .en) == "dearer")
        #expect(Words.comparative(1.0, 1.53, .zh) == "代价更小")
    }

    @Test func c9NamesEveryNAtOneReadyTask() throws {
        let run = try RealRuns.load("xeon-2vcpu-kvm")
        let c9 = try #require(Claims.evaluate(run, lang: .zh).first { $0.id == "C9" })
        let advice = try #require(c9.advice)
        #expect(!advice.contains("省得下来") && advice.contains("K = 1"))
        // at K = 1 the order reverses at N = 10 on this run: the sentence must say so, not "still cheaper"
        #expect(!advice.contains("协程仍然少花一些"))
        #expect(advice.contains("N = "))
    }

    // MARK: side by side that compares

    @Test func sideBySideSaysWhatDiffers() throws {
        let runs = try ["xeon-16vcpu-kvm", "epyc-2vcpu-kvm", "xeon-2vcpu-kvm"].map(RealRuns.load)
        let labels = ["M1a", "M2", "M1b"]
        for lang in Language.allCases {
            let page = NotesReport.render(runs, labels: labels, lang: lang)
            // M1a's futex thread switch (1.57 µs) is dearer than its process switch (1.53 µs): said, with noise
            #expect(page.contains(lang.t("Here the thread switch (1.57 µs) is not cheaper than the process switch (1.53 µs)",
                                         "这里线程切换（1.57 µs）并不比进程切换（1.53 µs）代价小")))
            // two runs of one CPU model far apart on a claim: what differs is named (kernel, CPU count)
            #expect(page.contains(lang.t("M1a and M1b show one CPU model", "M1a 和 M1b 的处理器型号相同")))
            #expect(page.contains(lang.t("online CPUs (not recorded against 2)", "在线处理器数（前者未记录，后者 2 个）")))
            // debug beside release is explained; the two-step block says which run it comes from
            #expect(page.contains(lang.t("M2 is a debug build", "M2 是 `debug` 构建")))
            #expect(page.contains(lang.t("Measured on M1b only", "只有 M1b 测了这一项")))
        }
        // the machine line has the vCPU count, or says it was not recorded
        #expect(NotesReport.render(runs[2], lang: .zh).contains("2 个在线虚拟处理器"))
        #expect(NotesReport.render(runs[0], lang: .en).contains("online CPUs not recorded"))
    }

    @Test func aClaimThatDoesNotHoldGetsACorrectedSentence() throws {
        let run = try RealRuns.load("xeon-2vcpu-kvm")
        let c2 = try #require(Claims.evaluate(run, lang: .zh).first { $0.id == "C2" })
        #expect(c2.verdict == .doesNotHold && c2.corrected?.contains("PCID") == true)
        let page = NotesReport.render(run, lang: .zh)
        #expect(page.contains("**可以直接替换笔记原句的改写：**\n\n> 进程切换需要切换页表"))
        // fixed explanations cite their source, and the facts they state are the kernel's (6 ASIDs, 24 references)
        #expect(page.contains("每个处理器 6 个") && page.contains("最多要访问内存 24 次") && page.contains("docs/sources.md"))
        #expect(!page.contains("先查客户机的页表，再查宿主机的页表") && !page.contains("给每个快表表项标上"))
        #expect(!page.contains("所以这一步很小") && !page.contains("不做系统调用") && !page.contains("挂起"))
        #expect(page.contains("几十微秒（33.2 µs）"))   // the run's wake-up, never a fixed 几微秒
    }
}

extension LedgerTests {
    /// report.md's C3 ratio of a thread switch to a coroutine switch is notes.md's (the ledger's thread
    /// switch: the paired yield row on the Xeon fixture), not a ring's: one idea, one number across pages.
    @Test func c3ThreadRatioIsTheLedgers() throws {
        let run = try RealRuns.load("xeon-2vcpu-kvm")
        let l = Ledger.of(run)
        let t = try #require(l[.threadSwitch]), a = try #require(l[.coroutineSwitch])
        let c3 = try #require(Claims.evaluate(run, lang: .en).first { $0.id == "C3" })
        let v = try #require(c3.values.first { $0.name == "thread_over_asm" })
        #expect(abs(v.value - t.value / a.value) < 1e-9 * v.value, "\(v.value) vs \(t.value / a.value)")
    }
}
