/// How busy the rest of the machine was while a case ran (docs/busy-machines.md, "Busy neighbours"):
/// rows whose cost depends on caches and memory bandwidth shared with the other CPUs (a TLB sweep,
/// cache pollution) move with what runs there, and the stolen-time rule cannot see it because the
/// row's own tasks did run. Measured from /proc/stat over the whole case (its resolution is jiffies).
public enum Neighbours {
    /// Above this `neighbour_busy`, rows of a harness that declares `Harness.neighbourSensitive`
    /// are invalid. From the measurements in docs/busy-machines.md: a `stress-ng --cpu 1` on the other
    /// CPU reads ≈ 1.0 and moves tlb/pollution rows beyond 1.25×; a quiet machine reads well below.
    public static let threshold = 0.5

    /// One CPU's line of /proc/stat, in jiffies.
    public struct Times: Sendable, Equatable {
        /// user+nice+system+irq+softirq+steal.
        public var busy: UInt64
        /// busy + idle + iowait.
        public var total: UInt64
        public var steal: UInt64
    }

    /// Per-CPU times of every online CPU (/proc/stat lists only online CPUs).
    public typealias Snapshot = [Int: Times]

    /// Parses /proc/stat text: the `cpuN` lines (not the aggregate `cpu` line). guest/guest_nice are
    /// already counted in user/nice and are left out.
    public static func parse(_ text: String) -> Snapshot {
        var out: Snapshot = [:]
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("cpu") else { continue }
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let cpu = Int(f[0].dropFirst(3)), f.count >= 5 else { continue }
            let v = f.dropFirst().map { UInt64($0) ?? 0 }
            func at(_ i: Int) -> UInt64 { i < v.count ? v[i] : 0 }
            // user nice system idle iowait irq softirq steal guest guest_nice
            let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7)
            out[cpu] = Times(busy: busy, total: busy + at(3) + at(4), steal: at(7))
        }
        return out
    }

    public static func read() -> Snapshot? { readProcFile("/proc/stat").map(parse) }

    /// The `neighbour_busy` of a row whose tasks ran on `own` between `before` and `after`: the mean busy
    /// share of the online CPUs other than `own`, or the steal share of an own CPU (time the host
    /// gave its physical CPU to another guest) when that is larger. nil when nothing was measurable
    /// (no tick elapsed on any CPU concerned).
    public static func busy(before: Snapshot, after: Snapshot, own: Set<Int>) -> Double? {
        var shares: [Double] = []
        var steal: Double?
        for cpu in after.keys.sorted() {
            guard let a = before[cpu], let b = after[cpu], b.total > a.total else { continue }
            let dt = Double(b.total - a.total)
            if own.contains(cpu) {
                let s = Double(b.steal &- a.steal) / dt
                steal = max(steal ?? 0, min(1, max(0, s)))
            } else {
                shares.append(min(1, max(0, Double(b.busy &- a.busy) / dt)))
            }
        }
        let others = shares.isEmpty ? nil : shares.reduce(0, +) / Double(shares.count)
        switch (others, steal) {
        case let (o?, s?): return max(o, s)
        case let (o?, nil): return o
        case let (nil, s?): return s
        default: return nil
        }
    }

    /// The reason a row of a neighbour-sensitive harness becomes invalid, nil when it stays valid.
    public static func reason(busy: Double?) -> String? {
        guard let busy, busy > threshold else { return nil }
        return String(format: "the other CPUs were %.0f %% busy during this case (neighbour_busy %.2f > %.2f): a memory-bound row shares caches and memory bandwidth with them; rerun on a quiet machine",
                      busy * 100, busy, threshold)
    }

    /// Records `busy` on the row and, for a sensitive harness above the threshold, marks a timed row invalid.
    public static func apply(_ busy: Double?, to r: inout Record, sensitive: Bool) {
        r.neighbourBusy = busy
        guard sensitive, r.valid, r.stats != nil, let why = reason(busy: busy) else { return }
        r.invalidate(why)
    }

    /// Whether a row is invalid because of busy neighbours (its harness is sensitive and its
    /// neighbour_busy is above the threshold): `compare` shows such rows but does not count them.
    public static func invalidatedByNeighbours(_ r: Record) -> Bool {
        guard !r.valid, let b = r.neighbourBusy, b > threshold else { return false }
        return Registry.harness(r.harness)?.neighbourSensitive ?? false
    }
}
