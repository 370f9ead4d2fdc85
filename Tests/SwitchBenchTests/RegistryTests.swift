import Foundation
import Testing
@testable import SwitchBench

/// What a harness declares (`Registry.harnesses`: its options, its `includedInAll`, its sections) is
/// what these tests check: nothing here lists harnesses or options by hand, so a new harness is its
/// folder plus its registry line.
@Suite struct RegistryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everyDeclaredOptionIsRegisteredOnceWithItsReaders() {
        let declared = Registry.harnesses.flatMap(\.declaredOptions)
        let names = Registry.options.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(Set(names) == Set(declared.map(\.name)))
        let help = Registry.optionsHelp
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 80 })
        for option in Registry.options {
            let readers = Registry.harnesses.filter { $0.declaredOptions.contains(option) }.map(\.id)
            let line = help.split(separator: "\n").first { $0.contains(option.flag + " ") }
            #expect(line != nil, "\(option.flag) is not in --help")
            // its line names its readers, in brackets
            #expect(line?.contains("(" + readers.joined(separator: ", ") + ")") == true, "\(option.flag): \(line ?? "")")
        }
    }

    /// What the docs' generated blocks show of a harness (`HarnessDocs`) it declares: a summary, what one
    /// op is, claims that docs/claims.md has, and a section of docs/harnesses.md where it names one.
    @Test func everyHarnessDeclaresWhatTheDocsShow() throws {
        let claims = try String(contentsOf: Self.root.appendingPathComponent("docs/claims.md"), encoding: .utf8)
        let page = try String(contentsOf: Self.root.appendingPathComponent("docs/harnesses.md"), encoding: .utf8)
        let anchors = Set(page.split(separator: "\n").filter { $0.hasPrefix("#") }.map {
            $0.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "-")
        })
        for h in Registry.harnesses {
            #expect(!h.summary.isEmpty && !h.info.op.isEmpty, "\(h.id): declare its summary and op (HarnessInfo)")
            for c in h.claims { #expect(claims.contains(c), "\(h.id): claim \(c) is not in docs/claims.md") }
            if let section = h.info.section { #expect(anchors.contains(section), "\(h.id): harnesses.md has no #\(section)") }
        }
    }

    @Test func allRunsTheHarnessesThatDoNotLeaveThemselvesOut() {
        #expect(Registry.all.map(\.id) == Registry.harnesses.filter(\.includedInAll).map(\.id))
        #expect(!Registry.all.isEmpty)
    }
}

/// Every registered harness run for real, its quickest case (`--quick`, the first case it plans), and
/// what it writes in Chinese put through the strict leak check: a new harness's zh section is checked
/// the first time `swift test` runs, not only once a fixture run holds its rows.
extension ProcessSpawningTests {
    @Suite(.serialized) struct EveryHarnessInChineseTests {
        @Test(arguments: Registry.harnesses.map(\.id))
        func quickestCaseWritesChineseWithoutEnglish(_ id: String) throws {
            let h = try #require(Registry.harness(id))
            var options = RunOptions()
            options.quick = true
            options.sampler = .quick
            let spec = try #require(h.cases(options).first, "\(id) plans no case under --quick")
            let context = RunContext(options: options, environment: ReportFixture.environment())
            let records = try h.run(spec, context: context)
            #expect(!records.isEmpty, "\(spec.label): no rows")
            let run = ReportFixture.run(records)
            var texts: [(String, String)] = []
            if let s = h.markdownSection(run, lang: .zh) { texts.append(("results.md section", s)) }
            if let s = h.notesSection([run], lang: .zh) { texts.append(("notes.md block", s)) }
            for p in h.plots(run, lang: .zh) { texts.append(("\(p.name) title", p.title)) }
            if !h.judgeClaims(run, lang: .zh).isEmpty { texts.append(("report.md", Claims.render(run, lang: .zh))) }
            #expect(!texts.isEmpty || h.presentationID != h.id, "\(id) wrote nothing for its own rows")
            for (what, text) in texts {
                let leaks = LeakCheck.strictLeaks(text)
                #expect(leaks.isEmpty, "\(id) \(what): English in the zh text: \(Array(Set(leaks)).sorted().prefix(12))")
            }
        }
    }
}
