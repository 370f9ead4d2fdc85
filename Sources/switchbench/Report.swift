import ArgumentParser
import Foundation
import SwitchBench

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Regenerate the claims report (report.md) and SVG plots from a run's CSV.",
        discussion: """
        Reads a results.csv (or a run directory holding one), judges claims C1–C7 from its rows and writes
        report.md plus the SVG plots its rows allow into --output (default: the run directory, or the CSV's
        directory; --output DIR to choose), in --lang en|zh (default en: an English run can be rendered in Chinese later). The report is also printed on stdout. The environment is rebuilt from the CSV's
        fingerprint columns (kernel, cpu_model, virtualization, build, pcid, thp, mitigations, git_commit).
        """)

    @Argument(help: "A results.csv or a run directory.")
    var input: String

    /// `--output DIR` (default: beside the CSV) comes through the root command's RunFlags (see Compare).
    @OptionGroup(visibility: .hidden) var runFlags: RunFlags
    var output: String? { runFlags.output }

    func run() throws {
        let csv = try RunLoader.csvPath(input)
        let (result, _) = try RunLoader.load(input)
        let dir = output ?? (csv as NSString).deletingLastPathComponent
        let outDir = dir.isEmpty ? "." : dir
        try RunWriter.prepare(outDir)
        let files = RunWriter.reportFiles(for: result, lang: try runFlags.language())
        for f in files { try RunWriter.write(f.contents, name: f.name, in: outDir) }
        print(files.last?.contents ?? "", terminator: "")   // report.md
        FileHandle.standardError.write(Data("switchbench: report.md and \(files.count - 1) plot(s) written to \(outDir)\n".utf8))
    }
}

