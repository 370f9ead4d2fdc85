import CSwitchBench
import Foundation
import Glibc

/// The kernel's own record of what ran between two stamps: a tracefs instance of its own
/// (`instances/switchbench-<pid>`: its own buffer, clock and events, so the system's tracing
/// settings are never touched), with the stamp clock as its trace_clock, recording
///   sched_switch to a task outside the ring (idle excluded by a filter), hard interrupts, softirqs,
///   and on x86 the timer tick and function-call IPIs (irq_vectors).
/// The instance is removed when done, and by the interrupt handler on SIGINT/SIGTERM
/// (`sb_track_trace_instance`); a tracefs this process had to mount is unmounted the same way.
/// Needs root (tracefs is root's); otherwise `start` says why not.
final class TailTrace {
    struct Event: Equatable {
        var cpu: Int
        var ticks: UInt64
        /// "task kworker/0:1", "irq virtio0-input.0", "softirq TIMER", "timer tick", "IPI call_function".
        var cause: String
        /// Ranking when several events fall in one hand-off: another task, then a hard interrupt or
        /// IPI, then the tick, then a softirq (usually the tail of one of those).
        var rank: Int
    }

    static let root = "/sys/kernel/tracing"
    let dir: String
    let mounted: Bool

    private init(dir: String, mounted: Bool) { (self.dir, self.mounted) = (dir, mounted) }

    /// Starts recording, or says why it cannot. `ringPIDs`: the ring's tasks (their switches are not causes).
    enum Start { case started(TailTrace), unavailable(String) }

    static func start(ringPIDs: [Int32], clock: StampClock) -> Start {
        guard geteuid() == 0 else { return .unavailable("needs root to read tracefs (running as uid \(geteuid()))") }
        guard let traceClock = clock.traceClock else { return .unavailable("no trace_clock reads the stamp clock (\(clock.label))") }
        var mounted = false
        if access(root + "/instances", F_OK) != 0 {
            guard mount("nodev", root, "tracefs", 0, nil) == 0 else { return .unavailable("tracefs is not mounted and mounting it failed: \(errnoText(errno))") }
            mounted = true
        }
        let dir = root + "/instances/switchbench-\(getpid())"
        guard mkdir(dir, 0o700) == 0 else {
            let why = errnoText(errno)
            if mounted { umount2(root, 0) }
            return .unavailable("cannot create a tracefs instance: \(why)")
        }
        sb_track_trace_instance(dir, mounted ? root : nil)
        let t = TailTrace(dir: dir, mounted: mounted)
        let ok = write(dir + "/tracing_on", "0") && write(dir + "/trace_clock", traceClock) && write(dir + "/buffer_size_kb", "4096")
        guard ok else { t.remove(); return .unavailable("the instance did not take trace_clock \(traceClock)") }
        let filter = (ringPIDs.map { "next_pid != \($0)" } + ["next_pid != 0"]).joined(separator: " && ")
        _ = write(dir + "/events/sched/sched_switch/filter", filter)
        var enabled = 0
        for e in ["sched/sched_switch", "irq/irq_handler_entry", "irq/softirq_entry", "irq_vectors/local_timer_entry",
                  "irq_vectors/call_function_entry", "irq_vectors/call_function_single_entry"]
            where write(dir + "/events/\(e)/enable", "1") { enabled += 1 }
        guard enabled > 0, write(dir + "/tracing_on", "1") else { t.remove(); return .unavailable("no tracepoint could be enabled") }
        return .started(t)
    }

    /// Stops recording, reads the events, removes the instance.
    func stop() -> [Event] {
        _ = Self.write(dir + "/tracing_on", "0")
        let text = Self.read(dir + "/trace") ?? ""
        remove()
        return Self.parse(text, own: Self.ownThreads())
    }

    private func remove() {
        rmdir(dir)
        if mounted { umount2(Self.root, 0) }
        sb_track_trace_instance(nil, nil)
    }

    /// One line of the `trace` file (default format, a counter clock prints ticks, the others s.µs):
    ///   "  kworker/0:1-42  [000] d.h1.  8812345678: local_timer_entry: vector=236"
    /// This process's threads (a switch to one of them is this run's own doing, named so).
    static func ownThreads() -> Set<Int> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int($0) })
    }

    static func parse(_ text: String, own: Set<Int> = []) -> [Event] {
        var out: [Event] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]"),
                  let cpu = Int(line[line.index(after: open)..<close]) else { continue }
            let rest = line[line.index(after: close)...].split(separator: ":", maxSplits: 2)
            guard rest.count == 3 else { continue }
            let head = rest[0].split(separator: " ")
            guard let stamp = head.last else { continue }
            let ticks: UInt64
            if let t = UInt64(stamp) { ticks = t } else if let s = Double(stamp) { ticks = UInt64(s * 1e9) } else { continue }
            let name = rest[1].trimmingCharacters(in: .whitespaces)
            let args = String(rest[2])
            guard var (cause, rank) = cause(event: name, args: args) else { continue }
            if name == "sched_switch", let pid = field(args, "next_pid").flatMap({ Int($0) }), own.contains(pid) {
                cause = "task switchbench (this run)"
            }
            out.append(Event(cpu: cpu, ticks: ticks, cause: cause, rank: rank))
        }
        return out
    }

    static func field(_ args: String, _ key: String) -> String? {
        guard let r = args.range(of: key + "=") else { return nil }
        let v = args[r.upperBound...]
        // next_comm may hold spaces; every field we read ends at " next_pid=" or at a space otherwise.
        if key == "next_comm", let end = v.range(of: " next_pid=") { return String(v[..<end.lowerBound]) }
        return String(v.prefix { $0 != " " && $0 != "]" })
    }

    /// A cause name holds no ";" nor "=" (the tail_causes column's separators).
    static func clean(_ s: String) -> String { s.replacingOccurrences(of: ";", with: "_").replacingOccurrences(of: "=", with: "_") }

    static func cause(event: String, args: String) -> (String, Int)? {
        switch event {
        case "sched_switch": return field(args, "next_comm").map { ("task " + clean($0), 0) }
        case "irq_handler_entry": return ("irq " + clean(field(args, "name") ?? field(args, "irq") ?? "?"), 1)
        case "call_function_entry", "call_function_single_entry": return ("IPI function call", 1)
        case "local_timer_entry": return ("timer tick", 2)
        case "softirq_entry": return ("softirq " + clean(field(args, "action") ?? field(args, "vec") ?? "?"), 3)
        default: return nil
        }
    }

    /// The cause of each slow hand-off: the best-ranked event on one of `cpus` (all CPUs when
    /// empty) between its two stamps, else "none traced". `slow`: (sent, recv) in ticks.
    static func attribute(_ slow: [(sent: UInt64, recv: UInt64)], events: [Event], cpus: Set<Int>) -> [String: Int] {
        let es = events.filter { cpus.isEmpty || cpus.contains($0.cpu) }.sorted { $0.ticks < $1.ticks }
        var counts: [String: Int] = [:]
        for h in slow {
            // First event at or after `sent` (binary search), then scan to `recv`.
            var lo = 0, hi = es.count
            while lo < hi { let mid = (lo + hi) / 2; if es[mid].ticks < h.sent { lo = mid + 1 } else { hi = mid } }
            var best: Event? = nil
            var i = lo
            while i < es.count && es[i].ticks <= h.recv {
                if best == nil || es[i].rank < best!.rank { best = es[i] }
                i += 1
            }
            counts[best?.cause ?? TailCauses.noneTraced, default: 0] += 1
        }
        return counts
    }

    static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What a user without tracefs can read about a window: the ring tasks' involuntary switches
/// (`/proc/<tid>/status`), interrupts on the ring's CPUs (`/proc/interrupts`) and their steal time
/// (`/proc/stat`). Whole-window counts: they say what happened while the hand-offs ran, not to which
/// hand-off, so they go with an `n/a` for the causes, never as causes.
struct ProcWindow {
    var involuntary = 0
    var interrupts: [String: Int] = [:]
    var stealTicks = 0

    static func take(tids: [Int32], cpus: Set<Int>) -> ProcWindow {
        var w = ProcWindow()
        for t in tids where t > 0 {
            let status = TailTrace.read("/proc/\(t)/status") ?? ""
            if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("nonvoluntary_ctxt_switches:") }) {
                w.involuntary += Int(line.split(separator: "\t").last ?? "") ?? 0
            }
        }
        let lines = (TailTrace.read("/proc/interrupts") ?? "").split(separator: "\n")
        if let header = lines.first {
            let cols = header.split(separator: " ").compactMap { Int($0.dropFirst(3)) }   // "CPU0" → 0
            for l in lines.dropFirst() {
                let f = l.split(separator: " ")
                guard let first = f.first, first.hasSuffix(":") else { continue }
                var n = 0
                for (i, c) in cols.enumerated() where (cpus.isEmpty || cpus.contains(c)) && i + 1 < f.count { n += Int(f[i + 1]) ?? 0 }
                let id = String(first.dropLast())
                let name = Int(id) != nil ? "irq \(f.last ?? "")" : id
                if n > 0 { w.interrupts[TailTrace.clean(name), default: 0] += n }
            }
        }
        for l in (TailTrace.read("/proc/stat") ?? "").split(separator: "\n") where l.hasPrefix("cpu") && !l.hasPrefix("cpu ") {
            let f = l.split(separator: " ")
            guard f.count > 8, let c = Int(f[0].dropFirst(3)), cpus.isEmpty || cpus.contains(c) else { continue }
            w.stealTicks += Int(f[8]) ?? 0
        }
        return w
    }

    /// Adds what changed from `before` to `after` (a window made of several chunks).
    mutating func add(_ after: ProcWindow, since before: ProcWindow) {
        involuntary += after.involuntary - before.involuntary
        for (k, v) in after.interrupts where v > (before.interrupts[k] ?? 0) { interrupts[k, default: 0] += v - (before.interrupts[k] ?? 0) }
        stealTicks += after.stealTicks - before.stealTicks
    }

    /// The same text for a window already summed with `add`.
    var summary: String { since(ProcWindow()) }

    /// "over the stamped run: 3 involuntary switches of the ring's tasks; interrupts on its CPUs 412 (LOC 380, …); steal 0 ms".
    func since(_ before: ProcWindow) -> String {
        let irq = interrupts.map { ($0.key, $0.value - (before.interrupts[$0.key] ?? 0)) }.filter { $0.1 > 0 }
            .sorted { $0.1 > $1.1 }
        let top = irq.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return "over the stamped run: \(involuntary - before.involuntary) involuntary switches of the ring's tasks"
            + ", \(irq.map(\.1).reduce(0, +)) interrupts on its CPUs" + (top.isEmpty ? "" : " (\(top))")
            + String(format: ", steal %.0f ms", Double(stealTicks - before.stealTicks) / hz * 1000)
    }
}
