import Foundation

/// Whether the output directory's filesystem has room for a run's files, asked before the first case
/// (statvfs), so that a full disk is found before the minutes of measuring, not after them.
///
/// What a run writes is estimated from a measured run, not from the rows it will make (a TLB sweep's
/// rows are known only once it ran): the bytes each harness's cases wrote, per case, into the files that
/// grow with the rows (results.csv, results.json, benchmark-action.json, results.md), plus the files
/// every run writes once (the plots, report.md, notes.md). docs/csv.md gives the run that measured them.
public enum RunSpace {
    /// Bytes of the row files per case of each harness, at `measuredSamples` samples a case: a release
    /// `switchbench --all` on a 2-vCPU AMD EPYC KVM guest (results/reference at 6b125bb1ceec: 877 rows, 3 613 217
    /// bytes of row files, the per hand-off histograms included; docs/csv.md),
    /// each harness's share of the row files by its share of results.csv's bytes, over its cases, rounded
    /// up to 100 bytes. A harness missing here counts as the largest: a new harness, until a reference
    /// run has its rows (RunSpaceTests checks that every harness of results/reference is listed, and
    /// nothing the registry lacks).
    static let bytesPerCase: [String: Int] = [
        "syscall": 3_800, "thread": 48_300, "process": 52_200, "coroutine": 9_900, "anatomy": 13_300,
        "create": 5_300, "blocking": 20_000, "tlb": 1_874_000, "pollution": 592_600, "memory": 16_300,
        "events": 9_800,
    ]
    /// The samples a case took in that run (the default, 31): more samples, longer sample lists.
    static let measuredSamples = 31
    /// The files written once a run (plots, report.md, notes.md): 223 647 bytes in that run, rounded up.
    static let onceBytes = 225_000
    /// Files a run writes (its own and the temporary one beside each while it is written).
    static let files = 16

    /// The bytes a run of these harnesses under these options is expected to write, with a quarter more
    /// for a machine whose cases make more rows than the measured one's.
    public static func estimate(_ harnesses: [any Harness], options: RunOptions) -> Int {
        let largest = bytesPerCase.values.max() ?? 0
        let scale = max(1.0, Double(options.sampler.samples) / Double(measuredSamples))
        let rows = harnesses.reduce(0.0) { sum, h in
            sum + Double(h.cases(options).count * (bytesPerCase[h.id] ?? largest)) * scale
        }
        return Int((rows + Double(onceBytes)) * 1.25)
    }

    /// What the filesystem that holds dir (or will: its nearest existing parent) still takes: bytes (the
    /// reserved blocks count for root) and files.
    static func available(_ dir: String) -> (bytes: UInt64, files: UInt64?)? {
        var s = statvfs()
        var path = dir.isEmpty ? "." : dir
        while statvfs(path, &s) != 0 {
            guard errno == ENOENT, path != "/", path != "." else { return nil }
            // The parent by hand: Foundation's deletingLastPathComponent traps on a one-character
            // relative path ("r", and "x" from "x/y") in swift-corelibs-foundation 6.3.1.
            let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
            if let slash = trimmed.lastIndex(of: "/") {
                path = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
            } else {
                path = "."
            }
        }
        // Read-only and pseudo filesystems (no blocks: /proc, /sys): RunWriter.prepare names the real fault.
        guard s.f_flag & UInt(ST_RDONLY) == 0, s.f_blocks > 0 else { return nil }
        let blocks = geteuid() == 0 ? UInt64(s.f_bfree) : UInt64(s.f_bavail)
        // A filesystem that does not count files (some network and FUSE ones) reports 0 of them.
        return (blocks * UInt64(s.f_frsize), s.f_files == 0 ? nil : UInt64(s.f_favail))
    }

    /// Throws `.usage` (exit 2, one line) when dir's filesystem has less room than the run needs.
    public static func check(_ dir: String, harnesses: [any Harness], options: RunOptions) throws {
        guard let free = available(dir) else { return }   // statvfs said nothing: the writes will tell
        let need = estimate(harnesses, options: options)
        let cases = harnesses.reduce(0) { $0 + $1.cases(options).count }
        if free.bytes < UInt64(need) {
            throw SwitchBenchError.usage("""
                not enough space for the run's files in '\(dir)': \(Format.bytes(Double(free.bytes))) free on its filesystem, about \
                \(Format.bytes(Double(need))) needed for \(cases) case(s); free some, or name another --output
                """)
        }
        if let left = free.files, left < UInt64(files) {
            throw SwitchBenchError.usage("""
                not enough space for the run's files in '\(dir)': its filesystem takes \(left) more file(s), the run writes up to \(files); free some, or name \
                another --output
                """)
        }
    }
}
