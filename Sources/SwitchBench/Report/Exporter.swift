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
    /// Every file of a run, in the order they are written.
    public static let run: [any Exporter<RunResult>] = [
        CSVExporter(), MarkdownExporter(), JSONExporter(), BenchmarkActionExporter(), SVGExporter(), ClaimsReportExporter(),
    ]

    /// What `switchbench report` regenerates from a CSV: the plots and the claims report.
    public static let report: [any Exporter<RunResult>] = [SVGExporter(), ClaimsReportExporter()]

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
