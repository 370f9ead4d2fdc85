import Foundation
import Testing
@testable import SwitchBench
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses an SVG as XML and counts its elements by name.
final class SVGChecker: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var rootName: String?
    var texts: [String] = []
    var current = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if rootName == nil { rootName = name }
        counts[name, default: 0] += 1
        current = ""
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(current) }
    }

    static func parse(_ svg: String) -> (ok: Bool, checker: SVGChecker) {
        let p = XMLParser(data: Data(svg.utf8))
        let c = SVGChecker()
        p.delegate = c
        return (p.parse(), c)
    }
}

enum TLBFixture {
    /// A synthetic sweep: a 4 KiB curve with a knee at 64 pages, a flat 2 MiB curve and a control line.
    static var run: RunResult {
        var records: [Record] = []
        for e in stride(from: 3, through: 14, by: 1) {
            let pages = 1 << e
            let four = pages <= 64 ? 1.5 : (pages <= 1536 ? 4.0 : 9.0)
            records.append(ReportFixture.record("tlb", "4k", metric: "ns_per_access", four, tasks: 1, pages: pages, pageSize: 4096))
            records.append(ReportFixture.record("tlb", "2m", metric: "ns_per_access", 1.6, tasks: 1, pages: pages, pageSize: 2 << 20))
            records.append(ReportFixture.record("tlb", "control", metric: "ns_per_access", 1.2, tasks: 1, pages: pages, pageSize: 4096))
        }
        // fact rows as the tlb harness writes them: only reach_pages marks a knee
        records.append(ReportFixture.record("tlb", "4k", metric: "reach_pages", 64, spread: 0, tasks: 1, pages: 64, pageSize: 4096, unit: "pages", parameters: [CaseParameter(.tlbLevel, 1)]))
        records.append(ReportFixture.record("tlb", "4k", metric: "reach_bytes", 262_144, spread: 0, tasks: 1, pages: 64, pageSize: 4096, unit: "bytes", parameters: [CaseParameter(.tlbLevel, 1)]))
        records.append(ReportFixture.record("tlb", "2m", metric: "huge_page_reach_ratio", 1, spread: 0, tasks: 1, pageSize: 2 << 20, unit: "×"))
        return ReportFixture.run(records)
    }
}

@Suite struct SVGTests {
    @Test func switchCostPlotIsValidXML() throws {
        var run = ReportFixture.basic
        run.records.append(ReportFixture.record("thread", "pipe", "cross-cpu", metric: "per_switch", 40_000))
        run.records.append(ReportFixture.record("coroutine", "asm", metric: "per_switch", 4))
        let svg = try #require(SwitchCostPlot.render(run))
        let (ok, c) = SVGChecker.parse(svg)
        #expect(ok)
        #expect(c.rootName == "svg")
        // dots, no bars: asm, getppid, thread pipe, process pipe on one CPU; thread pipe cross-CPU in its own panel
        #expect(c.counts["circle"] == 5 && c.counts["rect"] == 1)
        #expect(c.texts.contains { $0.hasPrefix("Cross-CPU wake-up latency") })
        #expect(c.texts.contains("coroutine (asm)"))
        // The cross-CPU bar (40 µs) is not among the switch-cost bars: the first panel's axis ends below it.
        let ticks = c.texts.filter { $0.hasSuffix(" µs") || $0.hasSuffix(" ns") }
        #expect(!ticks.isEmpty)
    }

    @Test func costPerEventHasAtLeastThreeTimeTicks() {
        // a full run's times, 1.5–2.5 µs: 1-2-5 ticks gave one (2 µs)
        let narrow = EventsPlot.timeTicks(lo: log10(1_500 / 1.25), hi: log10(2_490 * 1.25))
        #expect(narrow.count >= 3 && narrow.contains(2_000) && narrow.contains(3_000))
        // a wide range keeps 1-2-5
        #expect(EventsPlot.timeTicks(lo: log10(800), hi: log10(12_000)) == [1_000, 2_000, 5_000, 10_000])
    }

    @Test func aKneeFromAnInvalidReachRowIsNotDrawn() throws {
        var run = TLBFixture.run
        let with = try #require(TLBPlot.render(run, lang: .zh))
        #expect(with.contains(">L1<") && with.contains("快表覆盖 64 × 4 KiB"))
        let i = try #require(run.records.firstIndex { $0.metric == "reach_pages" })
        run.records[i].invalidate("the searches disagree")
        let without = try #require(TLBPlot.render(run, lang: .zh))
        #expect(!without.contains(">L1<") && !without.contains("快表覆盖 64 × 4 KiB"))
        #expect(without.contains("每次访问的时间（ns，对数坐标）"))
    }

    @Test func tlbPlotIsValidXMLWithThreeLinesAndAKnee() throws {
        let svg = try #require(TLBPlot.render(TLBFixture.run))
        let (ok, c) = SVGChecker.parse(svg)
        #expect(ok)
        #expect(c.counts["polyline"] == 3)
        #expect(c.counts["circle"] == 36)
        #expect(c.texts.contains("4 KiB pages") && c.texts.contains("2 MiB pages") && c.texts.contains("cache-only control"))
        #expect(c.texts.filter { $0.contains("TLB reach") } == ["4 KiB pages: L1 TLB reach 64 × 4 KiB"])
        #expect(c.texts.contains("L1"))
        #expect(c.counts["line"]! > 0)
    }

    @Test func plotsOnlyWhenRowsExistAndEmbeddedByRelativePath() throws {
        #expect(TLBPlot.render(ReportFixture.basic) == nil)
        let names = SVGPlots.files(for: ReportFixture.basic).map(\.name)
        #expect(names == ["switch-cost.svg"])
        let md = MarkdownExporter.render(ReportFixture.basic)
        #expect(md.contains("](switch-cost.svg)"))
        #expect(!md.contains("tlb.svg"))
        #expect(RunWriter.files(for: ReportFixture.basic).map(\.name).contains("switch-cost.svg"))
        // The plot is the report's: a run of the rings alone (no coroutine harness) has it too, and a run
        // with no row of a plotted kind has none.
        var rings = ReportFixture.basic
        rings.records = rings.records.filter { $0.harness == "thread" || $0.harness == "process" }
        #expect(!rings.records.isEmpty)
        #expect(SVGPlots.files(for: rings).map(\.name) == ["switch-cost.svg"])
        rings.records = []
        #expect(SVGPlots.files(for: rings).isEmpty)
        // escaping: a hostile label stays well-formed
        var run = ReportFixture.basic
        run.environment.cpuModel = "CPU <&> \"quoted\""
        #expect(SVGChecker.parse(SwitchCostPlot.render(run)!).ok)
    }
}
