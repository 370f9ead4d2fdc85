import ArgumentParser
import Foundation
import SwitchBench

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Regenerate the claims report (report.md) and SVG plots from a run's CSV, or put several runs side by side (machines.md).",
        discussion: """
        One run: reads a results.csv (or a run directory holding one), judges the course note's claims (C1–C9, docs/claims.md) from its rows and writes \
        report.md plus the SVG plots its rows allow into --output (default: the run directory, or the CSV's \
        directory), in --lang en|zh (default en: an English run can be rendered in Chinese later). The report is \
        also printed on stdout. The environment is rebuilt from the CSV's \
        fingerprint columns (kernel, cpu_model, virtualization, build, pcid, thp, mitigations, git_commit).

        Several runs (several paths, or one CSV holding several runs, e.g. files concatenated): writes machines.md, \
        a column per run headed by its machine's fingerprint (CPU model, online CPUs, virtualization, kernel, PCID, \
        THP; never the host name; runs of one machine, as compare counts it, share a number): claim verdicts, switch cost by kind, TLB reach per \
        level with the huge-page \
        verdict, creation costs. Printed on stdout and written to --output DIR (default: the current directory). \
        --lang en|zh picks its language.
        """)

    @Argument(help: "Results.csv files or run directories (one run: report.md; several: machines.md).")
    var inputs: [String]

    /// `--output DIR` (default: beside the CSV) comes through the root command's RunFlags (see Compare).
    @OptionGroup(visibility: .hidden) var runFlags: RunFlags
    var output: String? { runFlags.output }

    func run() throws {
        guard let input = inputs.first else {
            throw SwitchBenchError.usage("report needs a results.csv or a run directory (several for machines side by side)")
        }
        var columns: [MachineColumn] = []
        for path in inputs {
            let source = (try? RunLoader.csvPath(path)) ?? path
            columns += try MachineRuns.load(path).map { MachineColumn(run: $0, source: source) }
        }
        if columns.count > 1 { return try sideBySide(columns) }
        // Each input is loaded once (above); one run is its only column.
        guard let result = columns.first?.run else {
            throw SwitchBenchError.usage("'\(input)' holds no run")
        }
        let csv = try RunLoader.csvPath(input)
        let dir = output ?? (csv as NSString).deletingLastPathComponent
        let outDir = dir.isEmpty ? "." : dir
        try RunWriter.prepare(outDir)
        let files = RunWriter.reportFiles(for: result, lang: try runFlags.language())
        for f in files { try RunWriter.write(f.contents, name: f.name, in: outDir) }
        if let line = RunWriter.cjkFontNotice(files, lang: try runFlags.language()) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        let report = files.first { $0.name == ClaimsReportExporter.fileName }
        print(report?.contents ?? "", terminator: "")
        let plots = files.filter { $0.name.hasSuffix(".svg") }.count
        FileHandle.standardError.write(Data("""
            switchbench: \(files.map(\.name).filter { !$0.hasSuffix(".svg") }.joined(separator: ", ")) and \(plots) plot(s) written to \(outDir)\n
            """.utf8))
    }

    /// machines.md: one column per run, into --output or the current directory, and on stdout.
    func sideBySide(_ columns: [MachineColumn]) throws {
        let outDir = output ?? "."
        try RunWriter.prepare(outDir)
        let lang = try runFlags.language()
        let text = MachinesReport.render(columns, lang: lang)
        try RunWriter.write(text, name: MachinesReport.fileName, in: outDir)
        let notes = NotesReport.render(columns.map(\.run), labels: MachinesReport.labels(columns), lang: lang)
        try RunWriter.write(notes, name: NotesReport.fileName, in: outDir)
        print(text, terminator: "")
        let machines = Set(MachinesReport.machines(columns)).count
        FileHandle.standardError.write(Data("""
            switchbench: \(MachinesReport.fileName) (\(columns.count) runs, \(machines) machine(s)) and \(NotesReport.fileName) written to \
            \(outDir)\n
            """.utf8))
    }
}
