import Foundation
import Testing
@testable import SwitchBench

/// The two real runs copied from other machines (written at 35a632e, before the facts column).
enum RealRuns {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/runs").path
    static func load(_ name: String) throws -> RunResult {
        try RunLoader.load("\(dir)/\(name)/results.csv").run
    }
    static let names = ["xeon-16vcpu-kvm", "epyc-2vcpu-kvm"]
    /// `switchbench --all --quick --lang zh` on the development guest (2 vCPUs, KVM, busy), with the facts column.
    static let withFacts = "dev-2vcpu-kvm-quick"
    /// `switchbench run memory events --lang zh` on the development guest: N = 10, 1 000; K = 1, 16 (C8, C9).
    static let many = "dev-2vcpu-kvm-many"
}

/// Finds English prose in text meant to be Chinese: runs of ≥ 3 English words, outside code spans,
/// link targets, identifiers (anything with a digit, "_", "-", "." or "/"), units and the ids the
/// suite uses (harnesses, mechanisms, placements, system calls, acronyms).
enum LeakCheck {
    static let allowed: Set<String> = {
        var s: Set<String> = [
            "ns", "µs", "ms", "KiB", "MiB", "GiB", "B", "TLB", "STLB", "dTLB", "PCID", "ASID", "THP", "CPU", "CPUs", "vCPU",
            "KVM", "NUMA", "EPT", "NPT", "Go", "Tokio", "CPUID", "XSAVE", "AMX", "IBPB", "prctl", "seccomp", "CR3", "CV", "CI", "vDSO", "COW", "IPC", "Linux", "Swift", "glibc", "switchbench", "mprotect",
            "waitpid", "fork", "execve", "exit", "clone", "munmap", "mmap", "read", "getppid", "libnuma", "smaps",
            "AnonHugePages", "hypervisor", "Mann", "Whitney", "p", "madvise", "always", "never", "tsc", "kvm", "debug",
            "release", "harness", "mechanism", "placement", "metric", "cpus", "footprint", "note", "yield", "Task",
            "O_NONBLOCK", "posix_spawn", "pthread_create", "pthread_join", "swapcontext", "continuation", "tracepoint",
            "unknown", "none", "vm", "on", "off", "yes", "no", "T", "W", "M", "N", "L1", "L2", "x86", "arm64", "Ki", "n/a",
            "Z", "R", "asm", "ucontext", "futex", "pipe", "AMD", "EPYC", "Intel", "Xeon", "Processor", "gone", "state",
        ]
        for h in Registry.harnesses {
            s.insert(h.id)
            for m in h.mechanisms { s.insert(m.id) }
        }
        for p in Placement.allCases { s.insert(p.rawValue) }
        return s
    }()

    /// Words the Chinese files may use as they are: the task names of the pollution harness (A, B),
    /// the note's "MMU" (C5's quote, also in the results.md summary table),
    /// the burst size K, the note's own "IO", file formats and memory measures.
    static let strictAllowed: Set<String> = ["A", "B", "C", "K", "IO", "lmbench", "CSV", "JSON", "SVG", "README", "RSS", "PSS", "USS", "PMU", "PID", "MMU"]

    /// Every English word outside code spans, link targets, the note's quotes ("> " lines), units,
    /// identifiers (a digit, "_", "-", "." or "/" in it) and the allowed ids: the zh files' check (issue 16).
    static func strictLeaks(_ text: String) -> [String] {
        var t = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix(">") }.joined(separator: "\n")
        for pattern in ["`[^`\n]*`", "\\]\\([^)]*\\)", "https?://\\S+"] {
            t = t.replacingOccurrences(of: pattern, with: " § ", options: .regularExpression)
        }
        var found: [String] = []
        var token = ""
        func endToken() {
            if !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isLetter }), !allowed.contains(token) { found.append(token) }
            token = ""
        }
        for ch in t {
            if ch.isLetter || ch.isNumber || "_-./'".contains(ch) { token.append(ch) } else { endToken() }
        }
        endToken()
        return found.filter { !strictAllowed.contains($0) }
    }

    /// The English runs found, each as text.
    static func leaks(_ text: String) -> [String] {
        var t = text
        for pattern in ["`[^`\n]*`", "\\]\\([^)]*\\)", "https?://\\S+"] {
            t = t.replacingOccurrences(of: pattern, with: " § ", options: .regularExpression)
        }
        var found: [String] = []
        var run: [String] = []
        func flush() {
            if run.count >= 3 { found.append(run.joined(separator: " ")) }
            run = []
        }
        var token = ""
        func endToken() {
            guard !token.isEmpty else { return }
            let isWord = token.allSatisfy { $0.isASCII && $0.isLetter } && !allowed.contains(token)
            if isWord { run.append(token) } else { flush() }
            token = ""
        }
        for ch in t {
            if ch.isASCII && (ch.isLetter || ch.isNumber || "_-./'".contains(ch)) {
                token.append(ch)
            } else if ch == " " || ch == "," {
                endToken()
            } else {
                endToken()
                flush()
            }
        }
        endToken()
        flush()
        return found
    }
}

@Suite struct LanguageTests {
    static func runs() throws -> [RunResult] {
        try [ReportFixture.basic, TLBFixture.run] + (RealRuns.names + [RealRuns.withFacts, RealRuns.many]).map(RealRuns.load)
    }

    @Test func theManyTasksRunIsJudgedAndItsSectionsAreChecked() throws {
        // The fixture whose memory/events sections and plot the leak check below reads.
        let run = try RealRuns.load(RealRuns.many)
        let verdicts = Dictionary(uniqueKeysWithValues: Claims.verdicts(run).map { ($0.id, $0.verdict) })
        #expect(verdicts["C8"] == .holds && verdicts["C9"] == .holds)
        let md = MarkdownExporter.render(run, lang: .zh)
        #expect(md.contains("每个阻塞等待的任务占用的内存") && md.contains("每个事件的开销"))
        #expect(SVGPlots.files(for: run, lang: .zh).map(\.name) == ["cost-per-event.svg"])
    }

    @Test func englishOutputIsCaughtByTheLeakCheck() throws {
        let md = MarkdownExporter.render(try RealRuns.load("epyc-2vcpu-kvm"), lang: .en)
        #expect(LeakCheck.leaks(md).count > 20)
    }

    @Test func leakCheckFindsEnglishSentences() {
        #expect(LeakCheck.leaks("每次切换 the page walk is shorter 更快").count == 1)
        #expect(LeakCheck.leaks("用 `the page walk` 和 fork-exit-wait 与 TLB reach").isEmpty)
    }

    @Test func chineseOutputHasNoEnglishSentences() throws {
        for run in try Self.runs() {
            let files = RunWriter.files(for: run, lang: .zh).filter { $0.name.hasSuffix(".md") }
            #expect(files.map(\.name).sorted() == ["notes.md", "report.md", "results.md"])
            for f in files {
                let leaks = LeakCheck.leaks(f.contents)
                #expect(leaks.isEmpty, "\(run.runID) \(f.name): \(leaks.prefix(8))")
            }
            for p in SVGPlots.files(for: run, lang: .zh) {
                // titles and axes (the environment footer names the CPU model)
                let texts = p.contents.split(separator: "\n").filter { $0.contains("<text") && !$0.contains("测试环境") }.joined(separator: "\n")
                let leaks = LeakCheck.leaks(texts.replacingOccurrences(of: "<[^>]*>", with: "\n", options: .regularExpression))
                #expect(leaks.isEmpty, "\(run.runID) \(p.name): \(leaks.prefix(8))")
            }
        }
    }

    @Test func chineseAndEnglishGiveTheSameVerdicts() throws {
        for run in try Self.runs() {
            let en = Claims.evaluate(run, lang: .en), zh = Claims.evaluate(run, lang: .zh)
            #expect(en.map(\.id) == zh.map(\.id))
            #expect(en.map(\.verdict) == zh.map(\.verdict))
            #expect(en.map(\.values) == zh.map(\.values))
            for (a, b) in zip(en, zh) { #expect(a.title != b.title) }
        }
    }

    @Test func aChineseRenderingOfAnEnglishCSVSaysTheSame() throws {
        // An English run's CSV rendered later in Chinese: the same verdicts, in Chinese words.
        let run = try RealRuns.load("epyc-2vcpu-kvm")
        let zh = Claims.render(run, lang: .zh)
        for c in Claims.evaluate(run) { #expect(zh.contains("**结论：\(c.verdict.text(.zh))**")) }
        #expect(zh.contains("进程切换需要清空快表"))
        #expect(!zh.contains("Verdict"))
    }

    @Test func verdictAPIIsLanguageFree() throws {
        let run = try RealRuns.load("xeon-16vcpu-kvm")
        let outcomes = Claims.verdicts(run)
        #expect(outcomes.map(\.id) == ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"])
        #expect(outcomes.suffix(2).allSatisfy { $0.verdict == .notMeasured })   // an old run without memory/events rows
        #expect(Claims.title("C2", lang: .zh) == "进程切换必须清空快表（TLB）。")
        #expect(Claims.Verdict.notMeasured.text(.zh) == "未测量")
        #expect(Claims.verdicts(ReportFixture.run([])).allSatisfy { $0.verdict == .notMeasured })
    }
}

/// Facts read from typed values, and old CSVs give what they can.
@Suite struct FactTests {
    @Test func oldCSVsRecomputeWhatTheyCan() throws {
        let xeon = try RealRuns.load("xeon-16vcpu-kvm"), epyc = try RealRuns.load("epyc-2vcpu-kvm")
        // No facts column in 35a632e's CSV: the huge-page outcome comes back from the ratio row.
        #expect(xeon.records.allSatisfy { $0.facts == nil })
        guard case .reachGain(let f)? = TLBAnalysis.HugeOutcome.of(xeon) else { Issue.record("xeon: no reach gain"); return }
        #expect(f > 100)
        #expect(TLBAnalysis.HugeOutcome.of(epyc) == .noReachGain)
        // The pollution answer is decided again from its rows, as the harness did.
        #expect(PollutionVerdict.answer(epyc) != nil)
        // The zombie state from the create harness's own old note.
        for run in [xeon, epyc] {
            let z = try #require(ZombieFact.row(run))
            #expect(ZombieFact.from(z)?.sawZombie == true)
        }
        // Not recorded in the old CSV: the NUMA binding and the grant.
        #expect(NUMABinding.of(epyc) == nil)
        #expect(HugeGrant.of(epyc) == nil)
    }

    @Test func aNewCSVCarriesItsFactsAndNoNoteIsNeeded() throws {
        var run = try RealRuns.load(RealRuns.withFacts)
        let before = Claims.verdicts(run).map(\.verdict)
        for i in run.records.indices { run.records[i].note = "" }
        #expect(Claims.verdicts(run).map(\.verdict) == before)
        #expect(ZombieFact.row(run).flatMap(ZombieFact.from) == ZombieFact(before: "Z", after: "gone"))
        #expect(PollutionVerdict.answer(run) == .no)
        #expect(HugeGrant.of(run) == .granted)
        #expect(TLBAnalysis.HugeOutcome.of(run) == .noReachGain)
        let blocking = try #require(run.records.first { $0.metric == "max_gap" && $0.readMode == .blocking })
        #expect(BlockingSetup.from(blocking).delayNs == 20_000_000)
        let none = try #require(run.records.first { $0.harness == "pollution" && $0.mechanism == "none" })
        #expect(PollutionVerdict.warmWalk(none) != nil)
        #expect(NUMABinding.of(run) == nil)   // --node was not given
    }

    @Test func verdictsNeverReadNotes() throws {
        // A run whose facts are typed: wiping every note changes no verdict.
        var run = ReportFixture.basic
        var z = Record(harness: "create", mechanism: "zombie", placement: "same-cpu", cpus: [0], tasks: 1,
                       metric: "state_before_waitpid", unit: "state", samples: [], opsPerSample: 0)
        z.setFact("state_before_waitpid", "Z")
        z.setFact("state_after_waitpid", "gone")
        run.records += [ReportFixture.record("create", "fork-exit-wait", metric: "create_cleanup", 90_000, tasks: 1), z]
        run.records += TLBFixture.run.records
        let before = Claims.verdicts(run).map(\.verdict)
        for i in run.records.indices { run.records[i].note = "" }
        #expect(Claims.verdicts(run).map(\.verdict) == before)
        #expect(before.contains(.holds))
    }

    @Test func factsRoundTripThroughCSV() throws {
        var r = ReportFixture.record("pollution", "none", metric: "rewalk_penalty_per_page", 3, tasks: 1, pages: 16)
        r.setFact("warm_walk_ns_per_page", 1.25)
        r.setFact("answer", "no")
        let text = CSVExporter.render(ReportFixture.run([r]))
        #expect(text.split(separator: "\n")[0].contains(",facts"))
        let back = try RunLoader.parse(text, source: "t.csv").run.records[0]
        #expect(back.facts == ["warm_walk_ns_per_page": "1.25", "answer": "no"])
        #expect(PollutionVerdict.warmWalk(back) == 1.25)
    }

    @Test func differenceSentencesFollowTheSign() {
        // process 1400 × 0.94 = 1316 ns, thread 1400 ns: step 1 is −84 ns
        let c1 = Claims.evaluate(AnatomyFixture.run(ratio: 0.94))[0]
        #expect(c1.measured.contains { $0.contains("the process switch measured 84.0 ns cheaper") })
        #expect(!c1.measured.contains { $0.contains("adds -") })
        let up = Claims.evaluate(AnatomyFixture.run(ratio: 1.06))[0]
        #expect(up.measured.contains { $0.contains("adds 84.0 ns per switch") })
    }

    @Test func tlbSentencesFollowTheNumbers() throws {
        // On the EPYC guest 2 MiB misses past the second level cost MORE (18.5 vs 14.1 ns).
        let epyc = try RealRuns.load("epyc-2vcpu-kvm")
        // The TLB section (the all-rows table prints the old run's own notes verbatim).
        let md = try #require(TLBHarness().markdownSection(epyc, lang: .en))
        #expect(!md.contains("a shorter page walk"))
        #expect(md.contains("did not shorten the walk"))
        let svg = try #require(TLBPlot.render(epyc))
        #expect(!svg.contains("L3 reach") && !svg.contains("L4 reach") && !svg.contains(">L3<"))
        #expect(svg.contains("walks slow past") && svg.contains(">W1<"))
        #expect(svg.contains("log scale"))
    }
}

/// A harness that returns one fact row, as the zombie check does.
struct FactRowHarness: Harness {
    let info = HarnessInfo("fact-row", claims: [], summary: "test", mechanisms: [("zombie", "test")])
    func plan(_ options: RunOptions) -> [CaseSpec] { [CaseSpec(harness: id, mechanism: "zombie")] }
    func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        var r = Record(harness: id, mechanism: "zombie", placement: "same-cpu", cpus: [0], tasks: 1,
                       metric: "state_before_waitpid", unit: "state", samples: [], opsPerSample: 0)
        r.setFact("state_before_waitpid", "Z")
        return [r]
    }
}

@Suite struct ProgressLineTests {
    @Test func aFactRowShowsItsFact() {
        var lines: [String] = []
        var result = RunResult(runID: "t", timestampUTC: "", environment: .blank)
        Runner(context: RunContext(options: RunOptions(), environment: .blank, allowedCPUs: [0]), progress: { lines.append($0) })
            .run([FactRowHarness()], into: &result)
        #expect(lines.count == 1)
        #expect(lines[0].contains("state_before_waitpid Z"), "\(lines)")
        #expect(!lines[0].contains("n/a"))
    }
}

@Suite struct CompareLanguageTests {
    @Test func chineseCompareHasNoEnglishSentences() throws {
        var slower = ReportFixture.basic.records
        slower[0] = ReportFixture.record("process", "pipe", metric: "round_trip", 6600)           // a regression
        slower[1] = ReportFixture.record("process", "pipe", metric: "per_switch", 3300)           // derived from it: shown, not counted
        slower[3] = ReportFixture.record("thread", "pipe", metric: "per_switch", 2000, valid: false)
        slower.append(ReportFixture.record("process", "pipe", "unpinned", metric: "per_switch", 9000))   // new
        let base = ReportFixture.basic
        var cur = ReportFixture.run(slower, kernel: "6.2.0-other")
        cur.records.append(ReportFixture.record("thread", "futex", metric: "per_switch", 100, spread: 0.6))
        let a = try ReportFixture.loaded(base), b = try ReportFixture.loaded(cur)
        let c = try Comparison.make(baseline: a, baselineSource: "a.csv", current: b, currentSource: "b.csv")
        #expect(c.count(.regression) == 1)
        let zh = c.markdown(lang: .zh)
        #expect(zh.contains("环境不同"))
        #expect(LeakCheck.leaks(zh).isEmpty, "\(LeakCheck.leaks(zh).prefix(8))")
        // several baseline runs: the prediction-interval notes
        let multi = try RunLoader.parse(CSVExporter.render(base) + CSVExporter.render(base), source: "m.csv")
        let m = try Comparison.make(baseline: multi, baselineSource: "m.csv", current: b, currentSource: "b.csv")
        #expect(LeakCheck.leaks(m.markdown(lang: .zh)).isEmpty, "\(LeakCheck.leaks(m.markdown(lang: .zh)).prefix(8))")
        // English stays as it was for machines and CI logs
        #expect(c.warnings.first?.hasPrefix("ENVIRONMENT DIFFERS") == true)
        #expect(c.markdown().contains("**Summary:**"))
    }
}
