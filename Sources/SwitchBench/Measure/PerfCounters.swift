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
    /// perf_event_paranoid is honoured: where it forbids kernel-side counting for this process
    /// (≥ 2 and not privileged) events are opened user-only from the start, and a hardware or
    /// page-fault event denied with the kernel included is retried user-only. context-switches
    /// is never opened user-only: switches happen in the kernel, so it would read 0.
    /// The group leader this counter was opened under (kept alive as long as the member).
    public let leader: PerfCounter?

    public init(_ event: PerfEvent, inherit: Bool, policy: PerfPolicy = .current, group: PerfCounter? = nil) throws {
        self.event = event
        self.leader = group
        let groupFD = group?.fd ?? -1
        let canExclude = event != .contextSwitches && event != .cpuMigrations
        var excl = policy.mustExcludeKernel && canExclude
        if policy.mustExcludeKernel && !canExclude {
            throw SwitchBenchError.caseFailed("""
                denied (perf_event_paranoid=\(policy.paranoid.map(String.init) ?? "?") forbids counting in the kernel, where \(event.name) happens, without \
                CAP_PERFMON)
                """)
        }
        var fd = sb_perf_open_group(event.type, event.config, inherit ? 1 : 0, excl ? 1 : 0, excl ? 1 : 0, groupFD)
        if fd < 0 && !excl && canExclude && (fd == -EACCES || fd == -EPERM) {
            fd = sb_perf_open_group(event.type, event.config, inherit ? 1 : 0, 1, 1, groupFD)
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
        case EINVAL: return "rejected by the kernel (\(errnoText(code)); unknown type/config for this PMU)"
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
    /// When set (with includeSelf), only these threads of this process take part: a thread ring
    /// whose tasks are all threads of their own (the anatomy harness keeps two such rings at once).
    public var threadIDs: [pid_t]? = nil
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
            taskCount = (threadIDs?.count ?? 0) + ((includeSelf && threadIDs == nil ? ["self"] : []) + childPIDs.map(String.init)).reduce(0) {
                $0 + ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\($1)/task"))?.count ?? 0)
            }
        }
    }

    /// Whether reading the count between two samples costs little (a perf counter, or /proc status
    /// files of a few dozen threads): the sampler then leaves retaken samples out of the count.
    public var cheapToRead: Bool { perf != nil || taskCount <= 64 }
    private var taskCount = Int.max

    /// Switches since start(), the counter left running.
    public func sinceStart() -> UInt64? {
        if let perf { return perf.read().map { UInt64($0.value) } }
        let now = procCount()
        return now >= startCount ? now - startCount : 0
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
        if includeSelf, let tids = threadIDs {
            return tids.reduce(0) { $0 + (readProcFile("/proc/self/task/\($1)/status").map(Self.parseStatus) ?? 0) }
                + Self.procCount(childPIDs.map(String.init))
        }
        return Self.procCount((includeSelf ? ["self"] : []) + childPIDs.map(String.init))
    }

    /// The same over the given processes ("self" or pids), every thread of each.
    static func procCount(_ pids: [String]) -> UInt64 {
        var total: UInt64 = 0
        for pid in pids {
            let dir = "/proc/\(pid)/task"
            for tid in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                guard let text = readProcFile("\(dir)/\(tid)/status") else { continue }
                total += parseStatus(text)
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

/// What perf_event_paranoid allows this process (perf_event_open(2), "perf_event related configuration files").
public struct PerfPolicy: Sendable, Equatable {
    /// /proc/sys/kernel/perf_event_paranoid, nil when unreadable.
    public var paranoid: Int?
    /// root, or CAP_PERFMON / CAP_SYS_ADMIN in the effective set: paranoid does not apply.
    public var privileged: Bool

    public init(paranoid: Int?, privileged: Bool) {
        self.paranoid = paranoid
        self.privileged = privileged
    }

    /// paranoid ≥ 2 forbids kernel-side counting to unprivileged processes (≥ 3, a Debian patch,
    /// forbids perf_event_open altogether; the open then fails with EACCES and says so).
    public var mustExcludeKernel: Bool { !privileged && (paranoid ?? 2) >= 2 }

    /// What the policy means, for notes: "" when nothing is excluded.
    public var note: String {
        mustExcludeKernel ? "user-mode only (perf_event_paranoid=\(paranoid.map(String.init) ?? "?"), unprivileged)" : ""
    }

    public static var current: PerfPolicy {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8)) ?? ""
        return PerfPolicy(paranoid: Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                          privileged: geteuid() == 0 || capabilityEffective([38, 21]))
    }

    /// Whether any of the capability bits is in CapEff of /proc/self/status (CAP_PERFMON = 38, CAP_SYS_ADMIN = 21).
    static func capabilityEffective(_ bits: [Int]) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
        return bits.contains { mask & (1 << UInt64($0)) != 0 }
    }
}

/// One event's count over a measured region.
public struct CounterReading: Sendable, Equatable {
    public var event: String
    /// The count (scaled when multiplexed), nil when the event could not be opened or read.
    public var value: Double?
    /// The PMU shared the counter with others and the value was scaled by time_enabled / time_running.
    public var multiplexed: Bool
    /// Kernel mode excluded (perf_event_paranoid).
    public var userOnly: Bool
    /// Why value is nil, or what qualifies it; "" when nothing to say.
    public var note: String

    /// count ÷ ops, nil when not counted.
    public func per(_ ops: Int) -> Double? {
        guard let value, ops > 0 else { return nil }
        return value / Double(ops)
    }
}

/// A set of perf events opened together on the calling thread (and, with inherit, the threads and
/// children it creates afterwards): the counters every harness can put around its timed region.
/// Events that cannot be opened (no PMU in a VM, paranoid, unknown config) are kept with the reason
/// and read as nil: nothing fails. Hardware events form one perf group and software events another;
/// each count is scaled by its time_enabled / time_running when the PMU multiplexes.
public final class CounterSet {
    public let events: [PerfEvent]
    private var counters: [PerfEvent: PerfCounter] = [:]
    /// Events that did not open, with why.
    public private(set) var unavailable: [(event: PerfEvent, reason: String)] = []
    public let policy: PerfPolicy

    /// Hardware TLB and cycle events plus the software page-fault count: what a memory harness wants.
    public static let memoryEvents: [PerfEvent] = [.dTLBLoads, .dTLBLoadMisses, .iTLBLoadMisses, .cycles, .instructions, .pageFaults]

    /// Events not counted in their group (the group would not take them), with why.
    public private(set) var ungrouped: [(event: PerfEvent, reason: String)] = []

    /// - grouped: hardware events open as one perf group (the first that opens leads), software
    ///   events as another, so the PMU schedules each group as a whole and ratios such as
    ///   dTLB-load-misses per dTLB-loads cover the same time. An event the group refuses is opened
    ///   on its own (listed in `ungrouped`).
    public init(_ events: [PerfEvent] = PerfEvent.all, inherit: Bool = false, policy: PerfPolicy = .current,
                grouped: Bool = true) {
        self.events = events
        self.policy = policy
        var leaders: [Bool: PerfCounter] = [:]   // by isSoftware
        for e in events {
            let leader = grouped ? leaders[e.isSoftware] : nil
            do {
                let c: PerfCounter
                if let leader {
                    do {
                        c = try PerfCounter(e, inherit: inherit, policy: policy, group: leader)
                    } catch {
                        c = try PerfCounter(e, inherit: inherit, policy: policy)
                        ungrouped.append((e, "\(error)"))
                    }
                } else {
                    c = try PerfCounter(e, inherit: inherit, policy: policy)
                    if grouped { leaders[e.isSoftware] = c }
                }
                counters[e] = c
            } catch {
                unavailable.append((e, "\(error)"))
            }
        }
    }

    /// Events that opened.
    public var available: [PerfEvent] { events.filter { counters[$0] != nil } }

    /// Resets and enables every open counter.
    public func start() {
        for e in events { counters[e]?.reset() }
        for e in events { counters[e]?.enable() }
    }

    /// Disables every open counter.
    public func stop() {
        for e in events { counters[e]?.disable() }
    }

    /// One reading per event, in the order given; unopened events read nil with their reason.
    public func read() -> [CounterReading] {
        events.map { e in
            guard let c = counters[e] else {
                let why = unavailable.first { $0.event == e }?.reason ?? "not opened"
                return CounterReading(event: e.name, value: nil, multiplexed: false, userOnly: false, note: "n/a: \(why)")
            }
            guard let v = c.read() else {
                return CounterReading(event: e.name, value: nil, multiplexed: false, userOnly: c.excludesKernel,
                                      note: "n/a: the PMU never scheduled the counter (time_running = 0) or read failed")
            }
            var notes: [String] = []
            if v.multiplexed { notes.append("multiplexed, scaled by time_enabled/time_running") }
            if let why = ungrouped.first(where: { $0.event == e })?.reason { notes.append("counted outside its group (\(why))") }
            if c.excludesKernel { notes.append(policy.mustExcludeKernel ? policy.note : "user-mode only (kernel counting was denied)") }
            return CounterReading(event: e.name, value: v.value, multiplexed: v.multiplexed, userOnly: c.excludesKernel,
                                  note: notes.joined(separator: "; "))
        }
    }

    /// Counts `body`: start, body, stop, read.
    public func measure<T>(_ body: () throws -> T) rethrows -> (T, [CounterReading]) {
        start()
        let r = try body()
        stop()
        return (r, read())
    }
}
