import CSwitchBench
import Foundation
import Glibc

/// The clock of per hand-off stamps (docs/methodology.md, "One hand-off at a time"): the waker reads
/// it right before it wakes, the wakee right after its wait returns, possibly on another CPU.
///
/// The TSC where the kernel itself trusts it — the CPU says `constant_tsc` and `nonstop_tsc` and the
/// current clocksource is `tsc` (the kernel checked it is synchronised across CPUs, or it would have
/// switched away) — converted to ns with a ratio calibrated against CLOCK_MONOTONIC_RAW; else
/// CLOCK_MONOTONIC through the vDSO. On arm64 the generic timer (CNTVCT_EL0) when the clocksource
/// is `arch_sys_counter`. Its cost (two back-to-back reads) is measured and reported, never subtracted.
public struct StampClock: Sendable, Equatable {
    public enum Source: String, Sendable, Codable { case tsc, monotonic }
    public var source: Source
    /// ns per tick (1 for the monotonic clock).
    public var nsPerTick: Double
    /// Median of 2 001 back-to-back pairs, ns: what one stamp adds to each interval it bounds.
    public var costNs: Double
    /// The tracefs trace_clock that reads the same ticks ("x86-tsc", "mono"), nil when none does.
    public var traceClock: String?
    /// Why the TSC was not used ("" when it was).
    public var why: String

    /// One stamp, in ticks: no allocation, safe in a forked child.
    @inline(__always)
    public static func read(tsc: Bool) -> UInt64 {
        tsc ? sb_read_tsc() : sb_clock_ns(CLOCK_MONOTONIC)
    }
    @inline(__always) public func read() -> UInt64 { Self.read(tsc: source == .tsc) }

    /// ticks → ns (a difference of two stamps; negative when the wakee's clock is behind the waker's).
    @inline(__always) public func ns(_ ticks: Int64) -> Double { Double(ticks) * nsPerTick }

    /// The clock chosen on this machine, calibrated once per process.
    public static let shared: StampClock = detect()

    /// What the kernel says of the TSC: (trusted, why not).
    static func tscTrusted(cpuinfo: String, clocksource: String) -> (Bool, String) {
        #if arch(x86_64)
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ")) } ?? []
        let missing = ["constant_tsc", "nonstop_tsc"].filter { !flags.contains(Substring($0)) }
        if !missing.isEmpty { return (false, "the CPU lacks \(missing.joined(separator: ", "))") }
        if clocksource != "tsc" { return (false, "the kernel's clocksource is \(clocksource.isEmpty ? "unknown" : clocksource), not tsc") }
        return (true, "")
        #elseif arch(arm64)
        if clocksource != "arch_sys_counter" { return (false, "the kernel's clocksource is \(clocksource), not arch_sys_counter") }
        return (true, "")
        #else
        return (false, "no cycle counter read on this architecture")
        #endif
    }

    static func detect() -> StampClock {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cs = ((try? String(contentsOfFile: "/sys/devices/system/clocksource/clocksource0/current_clocksource", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let (trusted, why) = tscTrusted(cpuinfo: cpuinfo, clocksource: cs)
        var c = StampClock(source: .monotonic, nsPerTick: 1, costNs: 0, traceClock: "mono", why: why)
        if trusted, let ratio = calibrate() {
            #if arch(x86_64)
            c = StampClock(source: .tsc, nsPerTick: ratio, costNs: 0, traceClock: "x86-tsc", why: "")
            #else
            c = StampClock(source: .tsc, nsPerTick: ratio, costNs: 0, traceClock: nil, why: "")
            #endif
        }
        c.costNs = c.measureCost()
        return c
    }

    /// ns per tick over ~20 ms against CLOCK_MONOTONIC_RAW (the same oscillator, not slewed by NTP).
    static func calibrate() -> Double? {
        func pair() -> (UInt64, UInt64) {
            // The raw clock read between two TSC reads: its midpoint.
            let a = sb_read_tsc(), m = sb_clock_ns(CLOCK_MONOTONIC_RAW), b = sb_read_tsc()
            return (a / 2 + b / 2, m)
        }
        let (t0, m0) = pair()
        usleep(20_000)
        let (t1, m1) = pair()
        guard t1 > t0, m1 > m0 else { return nil }
        return Double(m1 - m0) / Double(t1 - t0)
    }

    /// Median ns between two back-to-back stamps.
    func measureCost() -> Double {
        let tsc = source == .tsc
        var d: [Double] = []
        d.reserveCapacity(2001)
        for _ in 0..<2001 {
            let a = Self.read(tsc: tsc), b = Self.read(tsc: tsc)
            d.append(ns(Int64(bitPattern: b &- a)))
        }
        d.sort()
        return d[1000]
    }

    /// "tsc (1.000 ns/tick…)": the `stamp_clock` fact.
    public var label: String { source == .tsc ? "tsc" : "clock_monotonic" }
}
