import CSwitchBench
import Foundation

/// A perf event by the name `perf list` gives it.
public struct PerfEvent: Sendable, Hashable {
    public var name: String
    public var type: UInt32
    public var config: UInt64
    public var isSoftware: Bool { type == SB_PERF_TYPE_SOFTWARE }

    public static let contextSwitches = PerfEvent(name: "context-switches", type: SB_PERF_TYPE_SOFTWARE, config: SB_PERF_COUNT_SW_CONTEXT_SWITCHES)
    public static let cpuMigrations = PerfEvent(name: "cpu-migrations", type: SB_PERF_TYPE_SOFTWARE, config: SB_PERF_COUNT_SW_CPU_MIGRATIONS)
    public static let pageFaults = PerfEvent(name: "page-faults", type: SB_PERF_TYPE_SOFTWARE, config: SB_PERF_COUNT_SW_PAGE_FAULTS)
    public static let cycles = PerfEvent(name: "cycles", type: SB_PERF_TYPE_HARDWARE, config: SB_PERF_COUNT_HW_CPU_CYCLES)
    public static let instructions = PerfEvent(name: "instructions", type: SB_PERF_TYPE_HARDWARE, config: SB_PERF_COUNT_HW_INSTRUCTIONS)
    public static let dTLBLoads = PerfEvent(name: "dTLB-loads", type: SB_PERF_TYPE_HW_CACHE, config: sb_perf_cache_config(0, 0))
    public static let dTLBLoadMisses = PerfEvent(name: "dTLB-load-misses", type: SB_PERF_TYPE_HW_CACHE, config: sb_perf_cache_config(0, 1))
    public static let iTLBLoadMisses = PerfEvent(name: "iTLB-load-misses", type: SB_PERF_TYPE_HW_CACHE, config: sb_perf_cache_config(1, 1))

    public static let all: [PerfEvent] = [cycles, instructions, dTLBLoads, dTLBLoadMisses, iTLBLoadMisses,
                                          contextSwitches, pageFaults, cpuMigrations]
}

/// One open perf_event counter on the calling thread (and, with inherit, the threads and
/// children it creates afterwards).
public final class PerfCounter {
    public let event: PerfEvent
    let fd: Int32
    /// Whether kernel-mode events are excluded (perf_event_paranoid ≥ 2 requires it for hardware events).
    public let excludesKernel: Bool

    /// Opens the event or throws `.caseFailed` with the reason (`errno` text).
    public init(_ event: PerfEvent, inherit: Bool) throws {
        self.event = event
        // Software context switches happen in the kernel: counting them needs exclude_kernel = 0
        // (it reads 0 otherwise). Hardware events first try with the kernel, then user-only.
        var fd = sb_perf_open(event.type, event.config, inherit ? 1 : 0, 0, 0)
        var excl = false
        if fd < 0 && !event.isSoftware && (fd == -EACCES || fd == -EPERM) {
            fd = sb_perf_open(event.type, event.config, inherit ? 1 : 0, 1, 1)
            excl = true
        }
        guard fd >= 0 else {
            throw SwitchBenchError.caseFailed(PerfCounter.reason(-fd))
        }
        self.fd = fd
        self.excludesKernel = excl
    }

    deinit { close(fd) }

    public func reset() { _ = sb_perf_reset(fd) }
    public func enable() { _ = sb_perf_enable(fd) }
    public func disable() { _ = sb_perf_disable(fd) }

    /// The count, scaled by time_enabled / time_running when the PMU multiplexed the event.
    public func read() -> (value: Double, multiplexed: Bool)? {
        var v: UInt64 = 0, en: UInt64 = 0, run: UInt64 = 0
        guard sb_perf_read(fd, &v, &en, &run) == 0 else { return nil }
        if run == 0 { return en == 0 ? (Double(v), false) : nil }
        return run < en ? (Double(v) * Double(en) / Double(run), true) : (Double(v), false)
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT, EOPNOTSUPP: return "not supported here (\(errnoText(code)); VMs and containers often hide the PMU)"
        case EACCES, EPERM: return "denied (\(errnoText(code)); perf_event_paranoid or a seccomp filter)"
        case ENODEV: return "no such PMU (\(errnoText(code)))"
        default: return errnoText(code)
        }
    }
}

public enum PerfCounters {
    /// Which events open on this machine, and why the others do not.
    public static func availability() -> (available: [String], unavailable: [String]) {
        var ok: [String] = [], no: [String] = []
        for e in PerfEvent.all {
            do {
                let c = try PerfCounter(e, inherit: false)
                ok.append(c.excludesKernel ? "\(e.name) (user only)" : e.name)
            } catch {
                no.append("\(e.name): \(error)")
            }
        }
        return (ok, no)
    }
}

/// Counts the kernel's context switches of every task taking part in a case, over the timed region.
///
/// By default it reads each task's voluntary + involuntary switch counts from /proc before and after
/// (exact, and free inside the timed region). An enabled perf event is not free: the kernel does extra
/// work on every switch while it counts — measured here, the same-cpu process pipe round trip went from
/// 3.05 µs to 3.35 µs with the `context-switches` event enabled (inherit), which would put us 10 % off
/// `perf bench sched pipe`. The perf software counter (opened with inherit, before the tasks exist) is
/// used when /proc cannot be read, or when asked for.
public final class SwitchCounter {
    private let perf: PerfCounter?
    private var startCount: UInt64 = 0
    /// Child processes to include.
    public var childPIDs: [pid_t] = []
    /// Whether the threads of this process take part (false when every task is a child).
    public var includeSelf = true
    public let source: String

    /// Create before the tasks exist, so that a perf counter is inherited by them.
    public init(usePerf: Bool = false) {
        let procReadable = FileManager.default.isReadableFile(atPath: "/proc/self/task/\(sb_gettid())/status")
        if (usePerf || !procReadable), let c = try? PerfCounter(.contextSwitches, inherit: true) {
            perf = c
            source = "perf context-switches"
        } else {
            perf = nil
            source = "/proc ctxt_switches"
        }
    }

    public func start() throws {
        if let perf {
            perf.reset()
            perf.enable()
        } else {
            startCount = procCount()
        }
    }

    /// Switches since start().
    public func stop() throws -> UInt64 {
        if let perf {
            perf.disable()
            guard let v = perf.read() else { throw SwitchBenchError.caseFailed("reading the context-switch counter failed") }
            return UInt64(v.value)
        }
        let now = procCount()
        return now >= startCount ? now - startCount : 0
    }

    /// voluntary_ctxt_switches + nonvoluntary_ctxt_switches of every thread of this process and the children.
    func procCount() -> UInt64 {
        var total: UInt64 = 0
        for pid in (includeSelf ? ["self"] : []) + childPIDs.map(String.init) {
            let dir = "/proc/\(pid)/task"
            for tid in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                guard let text = try? String(contentsOfFile: "\(dir)/\(tid)/status", encoding: .utf8) else { continue }
                total += SwitchCounter.parseStatus(text)
            }
        }
        return total
    }

    /// The sum of the two ctxt_switches lines of a /proc status text.
    static func parseStatus(_ text: String) -> UInt64 {
        var total: UInt64 = 0
        for line in text.split(separator: "\n") where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
            total += UInt64(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        }
        return total
    }
}
