import Foundation
import Testing
@testable import SwitchBench

/// What README.md and docs/ say that the binary or the registry knows, checked against them: exit codes,
/// harnesses and their mechanisms, options, the files of a run, CSV columns, `facts` keys, verdicts, and
/// every link's anchor. Figures from runs are not checked here: they are generated blocks (README's
/// reference table) or dated examples that say which run.
@Suite struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func doc(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The text from `start` to the first blank line after it.
    static func paragraph(_ text: String, from start: String) throws -> String {
        let s = try #require(text.range(of: start), "no '\(start)'")
        let e = text[s.upperBound...].range(of: "\n\n")?.lowerBound ?? text.endIndex
        return String(text[s.lowerBound..<e])
    }

    /// Every `code span` of a text.
    static func spans(_ text: some StringProtocol) -> [String] {
        String(text).matches(of: /`([^`\n]+)`/).map { String($0.output.1) }
    }

    /// Every exit status the binary can end with.
    static let exitCodes: [Int32] = [0, SwitchBenchError.caseFailed("").exitCode, SwitchBenchError.usage("").exitCode,
                                     Comparison.notComparableExit, Comparison.cannotGateExit, 130, 143]

    @Test func readmeListsEveryExitStatus() throws {
        let text = try Self.paragraph(Self.doc("README.md"), from: "- Exit status:")
        let numbers = Set(text.matches(of: /\b([0-9]{1,3})\b/).compactMap { Int32($0.output.1) })
        for code in Self.exitCodes { #expect(numbers.contains(code), "README's exit status omits \(code)") }
    }

    /// README's harness list and harnesses.md's table are written from the registry (`HarnessDocs`,
    /// scripts/harness-docs.py): every row there is the row its harness writes now, and none names a
    /// harness the registry lacks. A registered harness with no row yet is the regeneration's to add (it
    /// says so), not a failure here: a new harness is its folder and its registry line.
    @Test(arguments: HarnessDocs.Block.allCases)
    func generatedHarnessBlocksAreNotStale(_ block: HarnessDocs.Block) throws {
        let problems = HarnessDocs.staleness(of: block, in: try Self.doc(block.file))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))\nrun scripts/harness-docs.py")
    }

    /// The check finds what it must: a row that is no longer its harness's, a harness the registry
    /// lacks, rows out of order or twice, a block without markers; and lets a harness with no row be.
    @Test(arguments: HarnessDocs.Block.allCases)
    func stalenessFindsStaleRowsButNotMissingOnes(_ block: HarnessDocs.Block) throws {
        let rows = Registry.harnesses.count, first = block.header.count + 1
        func doc(_ lines: [String]) -> String { "# page\n\n" + lines.joined(separator: "\n") + "\n\nmore\n" }
        #expect(HarnessDocs.staleness(of: block, in: doc(block.lines())).isEmpty)
        #expect(HarnessDocs.staleness(of: block, in: doc(block.lines(Array(Registry.harnesses.dropFirst())))).isEmpty,
                "a registered harness without its row is not stale")
        var changed = block.lines()
        changed[first] = changed[first].replacingOccurrences(of: Registry.harnesses[0].summary, with: "old words")
            .replacingOccurrences(of: Registry.harnesses[0].info.op, with: "old words")
        #expect(HarnessDocs.staleness(of: block, in: doc(changed)).count == 1, "a changed row")
        var unknown = block.lines()
        unknown.insert(unknown[first].replacingOccurrences(of: "`\(Registry.harnesses[0].id)`", with: "`gone`"), at: first)
        #expect(HarnessDocs.staleness(of: block, in: doc(unknown)).contains { $0.contains("`gone`, which the registry lacks") })
        var swapped = block.lines()
        swapped.swapAt(first, first + rows - 1)
        #expect(HarnessDocs.staleness(of: block, in: doc(swapped)).contains { $0.contains("out of registry order") })
        var twice = block.lines()
        twice.insert(twice[first], at: first)
        #expect(HarnessDocs.staleness(of: block, in: doc(twice)).contains { $0.contains("has two rows") })
        #expect(HarnessDocs.staleness(of: block, in: doc(Array(block.lines().dropLast()))).count == 1, "no end marker")
    }

    @Test func everyVerdictIsNamed() throws {
        let claims = try Self.doc("docs/claims.md"), readme = try Self.doc("README.md")
        let readmeVerdicts = try Self.paragraph(readme, from: "A course note on processes")
        for v in Claims.Verdict.allCases {
            #expect(claims.contains("**\(v.rawValue)**"), "claims.md lacks the verdict \(v.rawValue)")
            #expect(readmeVerdicts.contains("*\(v.rawValue)*"), "README lacks the verdict \(v.rawValue)")
        }
    }

    /// csv.md documents every column, in order: the numbered contract, then the appended ones.
    @Test func csvColumnsAreDocumentedInOrder() throws {
        let text = try Self.doc("docs/csv.md")
        var documented: [String] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2 else { continue }
            if cells[0].first?.isNumber == true { documented += Self.spans(cells[1]) }   // "| 21–25 | `median`, … |"
            else if cells[0].hasPrefix("`"), cells[1] != "what", !cells[0].contains(".") { documented += Self.spans(cells[0]) }
        }
        #expect(documented == CSVExporter.columns, "csv.md: \(documented)\nbinary: \(CSVExporter.columns)")
    }

    /// The reference run (every harness): the files it writes are csv.md's file list, and every `facts`
    /// key it and the stored runs carry is named in csv.md.
    @Test func filesOfARunAndFactKeysAreDocumented() throws {
        let text = try Self.doc("docs/csv.md")
        let run = try RunLoader.load(Self.root.appendingPathComponent("results/reference/results.csv").path).run
        let written = Set(RunWriter.files(for: run).map(\.name)).subtracting(["results.csv"])
        let listed = Set(text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            let name = Self.spans(line.split(separator: "|")[0]).first ?? ""
            return name.contains(".") ? name : nil
        })
        #expect(written == listed, "written \(written.sorted()), csv.md \(listed.sorted())")
        let factsRow = try #require(text.split(separator: "\n").first { $0.hasPrefix("| `facts` |") })
        let named = Set(Self.spans(factsRow))
        var runs = [run]
        for name in RealRuns.names + [RealRuns.withFacts, RealRuns.many] { runs.append(try RealRuns.load(name)) }
        let keys = Set(runs.flatMap { $0.records.flatMap { $0.facts?.keys.map { $0 } ?? [] } })
        #expect(!keys.isEmpty)
        for key in keys.sorted() { #expect(named.contains(key), "csv.md's facts row lacks the key \(key)") }
    }

    /// The options README's usage shows for `run` are the ones the binary takes. (Each harness option
    /// is in its harness's row of harnesses.md's table, a generated block: `generatedHarnessBlocksAreNotStale`.)
    @Test func optionsAreTheBinarys() throws {
        let readme = try Self.doc("README.md")
        let usage = try Self.paragraph(readme, from: "switchbench --all [--quick]")
        let shown = Set(usage.matches(of: /--([a-z][a-z-]+)/).map { String($0.output.1) })
        for o in ["mechanism", "placement", "cpus", "tasks", "footprint", "samples", "quick", "format", "output"] {
            #expect(shown.contains(o), "README's usage lacks --\(o)")
        }
    }

    /// methodology.md's code layout names every folder of Sources/ (each target, the two C executables too).
    @Test func codeLayoutNamesEveryTarget() throws {
        let layout = try Self.paragraph(Self.doc("docs/methodology.md"), from: "Package.swift ")
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources").path)
        for t in targets { #expect(layout.contains("Sources/\(t)/"), "methodology.md's layout lacks Sources/\(t)/") }
    }

    /// Every `[…](file.md#anchor)` of README.md and docs/ points at a heading that exists.
    @Test func everyAnchorResolves() throws {
        let files = ["README.md"] + (try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path))
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        func slug(_ heading: String) -> String {
            var s = ""
            for ch in heading.lowercased() {
                if ch.isLetter || ch.isNumber || ch == "-" || ch == "_" { s.append(ch) } else if ch == " " { s.append("-") }
            }
            return s
        }
        func anchors(_ path: String) throws -> Set<String> {
            Set(try Self.doc(path).split(separator: "\n").filter { $0.hasPrefix("#") }
                .map { slug($0.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)) })
        }
        for file in files {
            let dir = (file as NSString).deletingLastPathComponent
            for m in try Self.doc(file).matches(of: /\]\(([A-Za-z0-9_.\/-]*)#([^)\s]+)\)/) {
                let target = String(m.output.1), anchor = String(m.output.2)
                let path = target.isEmpty ? file : ((dir.isEmpty ? target : dir + "/" + target) as NSString).standardizingPath
                guard path.hasSuffix(".md"), FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path) else { continue }
                #expect(try anchors(path).contains(anchor), "\(file): \(target)#\(anchor) has no heading")
            }
        }
    }
}

/// `--help` as the binary prints it lists every exit status; `list` (README: "harnesses, mechanisms,
/// placements, options") prints every harness option.
extension ProcessSpawningTests.CLITests {
    @Test func listPrintsEveryHarnessOption() throws {
        let (r, _) = try Self.run(["list"])
        #expect(r.status == 0)
        for h in Registry.harnesses { #expect(r.stdout.contains(h.id + " — "), "list lacks \(h.id)") }
        for o in Registry.options { #expect(r.stdout.contains(o.flag), "list lacks \(o.flag)") }
    }

    @Test func listFormatDocsPrintsTheGeneratedBlocks() throws {
        let (r, _) = try Self.run(["list", "--format", "docs"])
        #expect(r.status == 0)
        #expect(r.stdout == HarnessDocs.render())
        for block in HarnessDocs.Block.allCases { #expect(HarnessDocs.staleness(of: block, in: r.stdout).isEmpty) }
    }

    @Test func helpListsEveryExitStatus() throws {
        let (r, _) = try Self.run(["--help"])
        let text = try DocsTests.paragraph(r.stdout, from: "Exit status:")
        let numbers = Set(text.matches(of: /\b([0-9]{1,3})\b/).compactMap { Int32($0.output.1) })
        for code in DocsTests.exitCodes { #expect(numbers.contains(code), "--help's exit status omits \(code)") }
    }
}
