import CSwitchBench
import Foundation

/// Writes a run's files into its directory, each to a temporary name first and renamed into
/// place, so an interrupted run never leaves a half-written file.
public enum RunWriter {
    /// The default directory: results/runs/<run id>/ under the current directory.
    public static func defaultDirectory(for run: RunResult) -> String {
        "results/runs/\(run.runID)"
    }

    /// Checks that dir exists or can be created and is writable; throws `.usage` naming it.
    public static func prepare(_ dir: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SwitchBenchError.usage("output '\(dir)' exists and is not a directory") }
        } else {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                // Foundation's message is vague ("error 512"); the kernel's reason names the cause.
                let why = mkdir(dir, 0o755) == 0 ? error.localizedDescription : errnoText(errno)
                throw SwitchBenchError.usage("cannot create output directory '\(dir)': \(why)")
            }
        }
        guard access(dir, W_OK) == 0 else {
            throw SwitchBenchError.usage("output directory '\(dir)' is not writable: \(errnoText(errno))")
        }
        // access() says yes to root on a directory it still cannot write (some /proc, /sys and
        // overlay paths): create and remove a file, as the run will.
        let probe = (dir as NSString).appendingPathComponent(".switchbench-probe-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            throw SwitchBenchError.usage("output directory '\(dir)' is not writable: \(errnoText(errno))")
        }
        close(fd)
        unlink(probe)
    }

    /// Writes `contents` to dir/name atomically (temp file + rename).
    public static func write(_ contents: String, name: String, in dir: String) throws {
        let final = (dir as NSString).appendingPathComponent(name)
        let temp = (dir as NSString).appendingPathComponent(".\(name).tmp-\(getpid())")
        sb_track_tempfile(temp)
        defer { sb_untrack_tempfile(temp) }
        do {
            try contents.write(toFile: temp, atomically: false, encoding: .utf8)
            guard rename(temp, final) == 0 else {
                throw SwitchBenchError.caseFailed("rename \(temp) → \(final): \(errnoText(errno))")
            }
        } catch let e as SwitchBenchError {
            unlink(temp)
            throw e
        } catch {
            unlink(temp)
            throw SwitchBenchError.caseFailed("cannot write \(final): \(error.localizedDescription)")
        }
    }

    /// The files of a run: every exporter of `Exporters.run`, in order.
    public static func files(for run: RunResult, lang: Language = .en) -> [OutputFile] {
        let rendered = RenderedRun(run, lang: lang)
        return Exporters.run.flatMap { $0.files(rendered, lang: lang) }
    }

    /// The plots and the claims report that embeds them (what `switchbench report` writes).
    public static func reportFiles(for run: RunResult, lang: Language = .en) -> [OutputFile] {
        let rendered = RenderedRun(run, lang: lang)
        return Exporters.report.flatMap { $0.files(rendered, lang: lang) }
    }

    /// Writes every file of the run and returns them (the caller prints one without rendering it again).
    @discardableResult
    public static func writeAll(_ run: RunResult, to dir: String, lang: Language = .en) throws -> [OutputFile] {
        try prepare(dir)
        let all = files(for: run, lang: lang)
        for f in all { try write(f.contents, name: f.name, in: dir) }
        if let line = cjkFontNotice(all, lang: lang) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        return all
    }

    /// One line for stderr when Chinese SVGs were written: their text needs a CJK font to render.
    public static func cjkFontNotice(_ files: [OutputFile], lang: Language) -> String? {
        guard lang == .zh, files.contains(where: { $0.name.hasSuffix(".svg") }) else { return nil }
        return "switchbench: the Chinese SVG text needs a CJK font where it is viewed (Debian/Ubuntu: apt-get install fonts-noto-cjk); without one every character shows as a box"
    }
}
