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

public enum Exporters {
    /// Every file of a run, in the order they are written: the plots are rendered once and shared by
    /// the SVG files, results.md and report.md.
    public static let run: [any Exporter<RunResult>] = [RunFilesExporter(report: false)]

    /// What `switchbench report` regenerates from a CSV: the plots, the claims report and notes.md.
    public static let report: [any Exporter<RunResult>] = [RunFilesExporter(report: true)]
}

/// A run's files with each plot rendered once: results.csv, results.md, results.json,
/// benchmark-action.json, the SVGs, report.md, notes.md (`report`: the SVGs, notes.md, report.md last).
public struct RunFilesExporter: Exporter {
    public var report: Bool
    public init(report: Bool) { self.report = report }
    public func files(_ run: RunResult, lang: Language) -> [OutputFile] {
        let plots = SVGPlots.files(for: run, lang: lang)
        let svgs = plots.map { OutputFile(name: $0.name, contents: $0.contents) }
        let titles = plots.map { ($0.name, $0.title) }
        let reportMD = OutputFile(name: "report.md", contents: Claims.render(run, plots: titles, lang: lang))
        let notes = NotesExporter().files(run, lang: lang)
        if report { return svgs + notes + [reportMD] }
        return CSVExporter().files(run, lang: lang)
            + [OutputFile(name: "results.md", contents: MarkdownExporter.render(run, plots: titles, lang: lang))]
            + JSONExporter().files(run, lang: lang) + BenchmarkActionExporter().files(run, lang: lang)
            + svgs + [reportMD] + notes
    }
}

extension Exporters {

    /// compare's outputs by --format.
    public static let comparison: [String: any Exporter<Comparison>] = [
        "markdown": ComparisonMarkdown(), "csv": ComparisonCSV(), "json": ComparisonJSON(),
    ]
}

/// The plots of the registered harnesses, one SVG file each.
public struct SVGExporter: Exporter {
    public init() {}
    public func files(_ run: RunResult, lang: Language) -> [OutputFile] {
        SVGPlots.files(for: run, lang: lang).map { OutputFile(name: $0.name, contents: $0.contents) }
    }
}

/// report.md: the claims, embedding the plots by name.
public struct ClaimsReportExporter: Exporter {
    public init() {}
    public func files(_ run: RunResult, lang: Language) -> [OutputFile] {
        let plots = SVGPlots.files(for: run, lang: lang).map { ($0.name, $0.title) }
        return [OutputFile(name: "report.md", contents: Claims.render(run, plots: plots, lang: lang))]
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
