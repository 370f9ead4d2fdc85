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
        let (fd, probe) = try makeTemp(in: dir, prefix: ".switchbench-probe")
        close(fd)
        unlink(probe)
    }

    /// A new file in dir, created with mkstemp (a random name, O_EXCL, mode 0600): never a fixed or
    /// guessable name that another user of a shared directory (say /tmp) could have made first, as a
    /// link to a file of ours. Returns its descriptor and path; throws `.usage` naming dir.
    static func makeTemp(in dir: String, prefix: String) throws -> (Int32, String) {
        var template = Array(((dir as NSString).appendingPathComponent(prefix + ".XXXXXX")).utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw SwitchBenchError.usage("output directory '\(dir)' is not writable: \(errnoText(errno))")
        }
        return (fd, String(cString: template))
    }

    /// Writes `contents` to dir/name atomically: a new temporary file (`makeTemp`), renamed into place.
    /// The file gets the mode a plain create would (0666 less the umask).
    public static func write(_ contents: String, name: String, in dir: String) throws {
        let final = (dir as NSString).appendingPathComponent(name)
        let (fd, temp) = try makeTemp(in: dir, prefix: ".\(name).tmp")
        sb_track_tempfile(temp)
        defer { sb_untrack_tempfile(temp) }
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o666 & ~mask)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(contents.utf8))
            try handle.close()
            guard rename(temp, final) == 0 else {
                throw SwitchBenchError.caseFailed("rename \(temp) → \(final): \(errnoText(errno))")
            }
        } catch let e as SwitchBenchError {
            unlink(temp)
            throw e
        } catch {
            unlink(temp)
            throw SwitchBenchError.caseFailed("cannot write \(final): \(reason(error))")
        }
    }

    /// The kernel's words for a failed write ("No space left on device"), where Foundation kept its errno.
    static func reason(_ error: Error) -> String {
        let e = error as NSError
        let posix = e.domain == NSPOSIXErrorDomain ? e : (e.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? $0 : nil }
        return posix.map { errnoText(Int32($0.code)) } ?? error.localizedDescription
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
        return """
            switchbench: the Chinese SVG text needs a CJK font where it is viewed (Debian/Ubuntu: apt-get install fonts-noto-cjk); without one every character \
            shows as a box
            """
    }
}
