import Glibc

/// How busy the rest of the machine was while a case ran (docs/busy-machines.md, "Busy neighbours"):
/// rows whose cost depends on caches and memory bandwidth shared with the other CPUs (a TLB sweep,
/// cache pollution) move with what runs there, and the stolen-time rule cannot see it because the
/// row's own tasks did run. Measured from /proc/stat over the whole case (its resolution is jiffies).
public enum Neighbours {
    /// Above this `neighbour_busy`, rows of a harness that declares `Harness.neighbourSensitive`
    /// are invalid. From the measurements in docs/busy-machines.md: a quiet machine reads 0.00–0.11 over
    /// a tlb or pollution case; a `stress-ng --cpu 1` on the other CPU reads 1.0; one time-sharing the
    /// row's own CPU reads 0.50 (it gets half of that CPU) and moves tlb rows up to 8×.
    public static let threshold = 0.4

    /// One CPU's line of /proc/stat, in jiffies.
    public struct Times: Sendable, Equatable {
        /// user+nice+system+irq+softirq+steal.
        public var busy: UInt64
        /// busy + idle + iowait.
        public var total: UInt64
        public var steal: UInt64
        /// This CPU's time in its idle states in µs (cpuidle's state*/time) and the monotonic clock
        /// when it was read, where `read(exactOn:)` read them from this CPU itself; nil otherwise.
        public var idleMicroseconds: UInt64? = nil
        public var readAtNs: UInt64? = nil

        public init(busy: UInt64, total: UInt64, steal: UInt64, idleMicroseconds: UInt64? = nil, readAtNs: UInt64? = nil) {
            self.busy = busy
            self.total = total
            self.steal = steal
            self.idleMicroseconds = idleMicroseconds
            self.readAtNs = readAtNs
        }
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

    /// /proc/stat, and for `cpu` its idle time in µs from cpuidle, read from that CPU itself (this
    /// thread moves there for the read and back): a CPU's idle residency is added up when it leaves
    /// idle, so only a CPU that is running the reader has none outstanding. This gives the own share
    /// of a same-cpu case in ns where /proc/stat's ticks are too coarse (a case under 0.1 s).
    /// Without cpuidle (no driver, no sysfs) it is `read()`.
    public static func read(exactOn cpu: Int?) -> Snapshot? {
        guard var snap = read() else { return nil }
        guard let cpu, snap[cpu] != nil else { return snap }
        let reading: (UInt64, UInt64)? = try? Affinity.pinned([cpu]) { () -> (UInt64, UInt64)? in
            guard let idle = idleMicroseconds(cpu) else { return nil }
            return (idle, monotonicNanoseconds())
        } ?? nil
        if let (idle, at) = reading {
            snap[cpu]?.idleMicroseconds = idle
            snap[cpu]?.readAtNs = at
        }
        return snap
    }

    /// Sum of /sys/devices/system/cpu/cpuN/cpuidle/state*/time (µs); nil without cpuidle.
    static func idleMicroseconds(_ cpu: Int) -> UInt64? {
        var total: UInt64 = 0
        var found = false
        for state in 0..<16 {
            guard let text = readProcFile("/sys/devices/system/cpu/cpu\(cpu)/cpuidle/state\(state)/time"),
                  let v = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { break }
            total += v
            found = true
        }
        return found ? total : nil
    }

    /// The shortest case whose own share is read from idle time (ns): below it, ticks or nothing.
    public static let minExactNs: UInt64 = 10_000_000

    /// What other tasks used of the machine over a case, from two /proc/stat snapshots (`shares`).
    public struct Shares: Sendable, Equatable {
        /// Mean busy share of the online CPUs other than the row's own; nil when there are none.
        public var others: Double?
        /// Share of the row's own CPUs' time that went to anything but this suite: their busy time
        /// (steal included: the host gave the physical CPU to another guest) less the suite's CPU time.
        public var own: Double?

        /// The `neighbour_busy` column: the larger of the two. Another task time-sharing the row's CPU
        /// refills its caches and TLB between the samples that the sampler kept; one on another CPU
        /// shares the caches and memory bandwidth. nil when nothing was measurable.
        public var busy: Double? {
            switch (others, own) {
            case let (o?, s?): return max(o, s)
            case let (o?, nil): return o
            case let (nil, s?): return s
            default: return nil
            }
        }
    }

    /// The shares of a row whose tasks ran on `own` between `before` and `after`. `suiteSeconds`: the
    /// CPU time this process and its reaped children used over the case (nil: only the own CPUs'
    /// steal counts as foreign). An own CPU with idle times in both snapshots (`read(exactOn:)`) is
    /// read in ns over at least `minExactNs`; any other CPU that counted fewer than `minTicks` ticks is
    /// left out (a case of under 0.1 s at USER_HZ 100: one tick of a daemon would read as 10 % or more).
    public static func shares(before: Snapshot, after: Snapshot, own: Set<Int>, suiteSeconds: Double? = nil,
                              ticksPerSecond: Double = 100) -> Shares {
        var shares: [Double] = []
        // The own CPUs in seconds: exact (idle time read on the CPU itself) where both snapshots have
        // it, else from ticks.
        var ownBusy = 0.0, ownSteal = 0.0, ownTotal = 0.0
        for cpu in after.keys.sorted() {
            guard let a = before[cpu], let b = after[cpu] else { continue }
            func delta(_ x: UInt64, _ y: UInt64) -> Double { y >= x ? Double(y - x) : 0 }
            let ticked = b.total >= a.total + minTicks
            if own.contains(cpu), let i0 = a.idleMicroseconds, let i1 = b.idleMicroseconds,
               let t0 = a.readAtNs, let t1 = b.readAtNs, t1 >= t0 + minExactNs {
                let dt = Double(t1 - t0) / 1e9
                ownTotal += dt
                ownBusy += max(0, dt - delta(i0, i1) / 1e6)
                if ticked { ownSteal += delta(a.steal, b.steal) / ticksPerSecond }
                continue
            }
            guard ticked else { continue }
            let dt = Double(b.total - a.total)
            if own.contains(cpu) {
                ownTotal += dt / ticksPerSecond
                ownBusy += delta(a.busy, b.busy) / ticksPerSecond
                ownSteal += delta(a.steal, b.steal) / ticksPerSecond
            } else {
                shares.append(min(1, max(0, delta(a.busy, b.busy) / dt)))
            }
        }
        var out = Shares()
        out.others = shares.isEmpty ? nil : shares.reduce(0, +) / Double(shares.count)
        if ownTotal > 0 {
            let foreign = suiteSeconds.map { max(ownSteal, ownBusy - $0) } ?? ownSteal
            out.own = min(1, max(0, foreign / ownTotal))
        }
        return out
    }

    /// The fewest ticks a CPU must have counted over a case for its share to be read (±1 tick = ±10 %).
    public static let minTicks: UInt64 = 10

    /// /proc/stat's unit (USER_HZ).
    public static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Why a row's time depends on what else runs on this machine, beyond what the sampler's
    /// stolen-time rule takes out; nil when it does not. Only timed rows (ns, ≥ 3 samples) can:
    /// - its harness declares it (`Harness.neighbourSensitive`: page walks and re-walks share caches
    ///   and memory bandwidth with the other CPUs);
    /// - a cross-cpu or unpinned row: its tasks wake and run on other CPUs, so what it measures (a
    ///   wake-up of an idle CPU, or the scheduler's choice) changes when those CPUs are busy (measured:
    ///   cross-cpu round trips 0.4–0.6× quiet under `stress-ng --cpu 2`, all samples clean);
    /// - its samples are not checked for preemption (`samples_retaken` empty: an exec'd program, the
    ///   global executor's pool threads), so other tasks' time cannot be told from its own.
    public static func dependence(_ r: Record, harnessSensitive: Bool) -> String? {
        guard r.unit == "ns", r.stats != nil, r.samples >= 3 else { return nil }
        if harnessSensitive { return "a memory-bound row shares caches and memory bandwidth with them" }
        if r.placement != Placement.sameCPU.rawValue {
            return "a \(r.placement) row's tasks wake and run on CPUs those tasks were using"
        }
        if r.samplesRetaken == nil { return "this row's samples are not checked for preemption" }
        return nil
    }

    /// The reason a row becomes invalid, nil when it stays valid.
    public static func reason(busy: Double?, because why: String) -> String? {
        guard let busy, busy > threshold else { return nil }
        return String(format: "other tasks kept this machine's CPUs %.0f %% busy during this case (neighbour_busy %.2f > %.2f): %@; rerun on a quiet machine",
                      busy * 100, busy, threshold, why)
    }

    /// Records `busy` on the row and, for a row whose time depends on the rest of the machine
    /// (`dependence`), above the threshold, marks it invalid.
    public static func apply(_ busy: Double?, to r: inout Record, sensitive: Bool) {
        r.neighbourBusy = busy
        guard r.valid, let why = dependence(r, harnessSensitive: sensitive), let text = reason(busy: busy, because: why) else { return }
        r.invalidate(text)
        r.setFact(invalidatedByKey, invalidatedByValue)
    }

    /// Above this share of a same-cpu hand-off row's CPU used by other tasks over the case, the row
    /// is invalid (`applyRunQueue`). A quiet machine reads 0.00–0.0x there; one `stress-ng --cpu`
    /// worker sharing the CPU reads 0.3–0.5.
    public static let runQueueThreshold = 0.10

    /// Same-cpu hand-off rows of a harness that declares `Harness.runQueueSensitive` (the token
    /// rings): their time depends on whether another task waits in their CPU's run queue, even one
    /// that never runs inside a sample, so the stolen-time rule cannot see it. Measured with a C ring
    /// beside a SCHED_IDLE spinner that got no time in the samples: 5.0 → 6.5–7.5 µs a round trip,
    /// because with a third task queued the kernel stops preempting the waker for the woken task
    /// (42 % → 0 % of hand-offs) and every hand-off takes the full sleep-and-wake path
    /// (docs/busy-machines.md, "A third task in the run queue"). The run queue itself is not
    /// visible from user space; the CPU time other tasks used on the row's CPU over the case
    /// (`Shares.own`) is what they must have waited for there.
    public static func applyRunQueue(_ own: Double?, to r: inout Record) {
        // A hand-off row expects switches; a paired row (ratio or difference of two such
        // rows, `PairedMeasured.pairsKey`) rests on hand-offs too, and so does a per hand-off row
        // (its distribution, `latency`: the same hand-offs stamped one at a time).
        let handOff = (r.expectedSwitchesPerOp ?? 0) > 0 || r.fact(PairedMeasured.pairsKey) != nil || r.latency != nil
        guard r.valid, r.placement == Placement.sameCPU.rawValue, handOff,
              r.unit == "ns" || r.unit == "ratio", r.stats != nil, r.samples >= 3, let own, own > runQueueThreshold else { return }
        r.invalidate(String(format: """
            other tasks used %.0f %% of CPU %@ during this case (over %.0f %%): with another task queued there the kernel hands off without wakeup preemption, \
            by the full sleep-and-wake path (measured 1.3–1.4× slower with no stolen time); rerun with that CPU free (--cpus)
            """,
                            own * 100, r.key.cpusText, runQueueThreshold * 100))
        r.setFact(invalidatedByKey, invalidatedByValue)
    }

    /// What made a row `invalidatedByNeighbours`, either rule, in a language (results.md, compare's notes).
    public static func rules(_ lang: Language) -> String {
        let (busy, own) = (String(format: "%.1f", threshold), String(format: "%.0f", runQueueThreshold * 100))
        return lang.t("`neighbour_busy` > \(busy), or other tasks on more than \(own) % of a same-cpu hand-off row's own CPU",
                      "`neighbour_busy` > \(busy)，或同一处理器上交接的行自己的 CPU 被别的程序占去 \(own) % 以上")
    }

    /// The fact that marks a row this rule invalidated (and no other rule).
    public static let invalidatedByKey = "invalidated_by"
    static let invalidatedByValue = "neighbours"

    /// Whether this rule (and not another) made the row invalid — a typed fact, not the note:
    /// `compare` does not count a change of such a row that its neighbours' share could explain.
    public static func invalidatedByNeighbours(_ r: Record) -> Bool {
        !r.valid && r.fact(invalidatedByKey) == invalidatedByValue
    }
}
