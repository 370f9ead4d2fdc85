import Foundation

/// One file an exporter makes: its name and contents.
public struct OutputFile: Sendable, Equatable {
    public var name: String
    public var contents: String
    public init(name: String, contents: String) { (self.name, self.contents) = (name, contents) }
}

/// Turns an input (a run, a comparison) into files. Every output of the suite is one exporter:
/// `RunWriter` writes a run through `Exporters.run`, `compare` prints one of `Exporters.comparison`.
/// Machine formats (CSV, JSON) ignore the language; files for people honour it.
public protocol Exporter<Input>: Sendable {
    associatedtype Input
    func files(_ input: Input, lang: Language) -> [OutputFile]
}

/// A run with its plots rendered once, in one language: what every exporter of a run reads (the SVG
/// files, results.md and report.md share the plots).
public struct RenderedRun: Sendable {
    public var run: RunResult
    public var plots: [Plot]

    public init(_ run: RunResult, lang: Language) {
        self.run = run
        self.plots = SVGPlots.files(for: run, lang: lang)
    }

    /// Each plot's file name and title, as results.md and report.md embed them.
    public var plotTitles: [(name: String, title: String)] { plots.map { ($0.name, $0.title) } }
}

public enum Exporters {
    /// Every file of a run, in the order they are written; each exporter writes its own file(s).
    public static let run: [any Exporter<RenderedRun>] = [
        CSVExporter(), MarkdownExporter(), JSONExporter(), BenchmarkActionExporter(), SVGExporter(),
        ClaimsReportExporter(), NotesExporter(),
    ]

    /// What `switchbench report` regenerates from a CSV: the plots, notes.md and the claims report.
    public static let report: [any Exporter<RenderedRun>] = [SVGExporter(), NotesExporter(), ClaimsReportExporter()]

    /// compare's outputs by --format.
    public static let comparison: [String: any Exporter<Comparison>] = [
        "markdown": ComparisonMarkdown(), "csv": ComparisonCSV(), "json": ComparisonJSON(),
    ]
}

/// The plots of the registered harnesses, one SVG file each.
public struct SVGExporter: Exporter {
    public init() {}
    public func files(_ r: RenderedRun, lang: Language) -> [OutputFile] {
        r.plots.map { OutputFile(name: $0.name, contents: $0.contents) }
    }
}

/// report.md: the claims, embedding the plots by name.
public struct ClaimsReportExporter: Exporter {
    public static let fileName = "report.md"
    public init() {}
    public func files(_ r: RenderedRun, lang: Language) -> [OutputFile] {
        [OutputFile(name: Self.fileName, contents: Claims.render(r.run, plots: r.plotTitles, lang: lang))]
    }
}

public struct ComparisonMarkdown: Exporter {
    public init() {}
    public func files(_ c: Comparison, lang: Language) -> [OutputFile] { [OutputFile(name: "compare.md", contents: c.markdown(lang: lang))] }
}

public struct ComparisonCSV: Exporter {
    public init() {}
    public func files(_ c: Comparison, lang: Language) -> [OutputFile] { [OutputFile(name: "compare.csv", contents: c.csv())] }
}

public struct ComparisonJSON: Exporter {
    public init() {}
    public func files(_ c: Comparison, lang: Language) -> [OutputFile] { [OutputFile(name: "compare.json", contents: c.json())] }
}
