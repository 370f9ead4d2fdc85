import CSwitchBench
import Foundation
import Glibc

/// The kernel's own record of what ran between two stamps: a tracefs instance of its own
/// (`instances/switchbench-<pid>`: its own buffer, clock and events, so the system's tracing
/// settings are never touched), with the stamp clock as its trace_clock, recording
///   sched_switch to a task outside the ring (idle excluded by a filter), hard interrupts, softirqs,
///   and on x86 the timer tick and function-call IPIs (irq_vectors): the causes (`Event`);
///   and the ring's own wake-ups (`sched_waking`, else `sched_wakeup`) and switches in (`RingEvent`),
///   from which `HandOffSplit` splits each hand-off. A switch to a ring task is never a cause.
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

    /// One of the ring's own scheduler events: a wake-up of ring task `pid` (on the waker's CPU for
    /// `sched_waking`), or a switch of `pid` onto `cpu`.
    struct RingEvent: Equatable {
        enum Kind: Equatable { case waking, switchIn }
        var kind: Kind
        var cpu: Int
        var ticks: UInt64
        var pid: Int
        /// A switch in: whether the task it switched out was still runnable (`prev_state=R`: preempted,
        /// not asleep); nil for a wake-up or where the line did not say.
        var prevRunnable: Bool? = nil
        /// A switch in: the task it switched out (`prev_pid`; 0 is the CPU's idle task).
        var prevPid: Int? = nil
    }

    /// What one traced window left: the causes, the ring's own events, which tracepoint gave the
    /// wake-ups, and events the kernel lost (the buffer overwrote the oldest: `since`, the first tick
    /// from which every CPU that lost some still has all of them; 0 when none was lost).
    struct Recording {
        var causes: [Event] = []
        var ring: [RingEvent] = []
        var wakeEvent = "sched_waking"
        var lost = 0
        var since: UInt64 = 0
        /// Each CPU's first event in the trace (for `since`).
        var firstTicks: [Int: UInt64] = [:]
    }

    static let root = "/sys/kernel/tracing"
    let dir: String
    let mounted: Bool
    let ringPIDs: Set<Int>
    /// The tracepoint that records the ring's wake-ups; nil when neither could be enabled.
    var wakeEvent: String?

    private init(dir: String, mounted: Bool, ringPIDs: Set<Int>) {
        (self.dir, self.mounted, self.ringPIDs) = (dir, mounted, ringPIDs)
    }

    /// Starts recording, or says why it cannot. `ringPIDs`: the ring's tasks (their switches are not
    /// causes; their wake-ups and switches in are recorded for `HandOffSplit`). `cpus`: the ring's
    /// CPUs (empty when unpinned).
    enum Start { case started(TailTrace), unavailable(String) }

    static func start(ringPIDs: [Int32], cpus: Set<Int> = [], clock: StampClock) -> Start {
        guard geteuid() == 0 else { return .unavailable("needs root to read tracefs (running as uid \(geteuid()))") }
        guard let traceClock = clock.traceClock else { return .unavailable("no trace_clock reads the stamp clock (\(clock.label))") }
        var mounted = false
        if access(root + "/instances", F_OK) != 0 {
            guard mount("nodev", root, "tracefs", 0, nil) == 0 else {
                return .unavailable("tracefs is not mounted and mounting it failed: \(errnoText(errno))")
            }
            mounted = true
        }
        let dir = root + "/instances/switchbench-\(getpid())"
        guard mkdir(dir, 0o700) == 0 else {
            let why = errnoText(errno)
            if mounted { umount2(root, 0) }
            return .unavailable("cannot create a tracefs instance: \(why)")
        }
        sb_track_trace_instance(dir, mounted ? root : nil)
        let ring = ringPIDs.filter { $0 > 0 }
        let t = TailTrace(dir: dir, mounted: mounted, ringPIDs: Set(ring.map(Int.init)))
        let ok = write(dir + "/tracing_on", "0") && write(dir + "/trace_clock", traceClock) && write(dir + "/buffer_size_kb", "4096")
        guard ok else { t.remove(); return .unavailable("the instance did not take trace_clock \(traceClock)") }
        // The ring's own events take about 110 bytes a hand-off (a wake-up and a switch in), all on one
        // CPU when same-cpu: a traced run of 50 000 needs more than 4 MiB there. The ring's CPUs (unpinned:
        // every CPU this process may use) get 16 MiB each, at most 4 of them (64 MiB); lost events are
        // counted (`stop`).
        let bufferCPUs = cpus.isEmpty ? Set(Affinity.current()) : cpus
        for c in bufferCPUs where bufferCPUs.count <= 4 { _ = write(dir + "/per_cpu/cpu\(c)/buffer_size_kb", "16384") }
        // Idle excluded; a switch to a ring task is kept (its switch in) and never made a cause (`parse`).
        _ = write(dir + "/events/sched/sched_switch/filter", "next_pid != 0")
        // The wake-up as perf sched timehist takes it: sched_waking (in the waker, when try_to_wake_up
        // starts), else sched_wakeup (kernels before 4.3).
        let pidFilter = ring.map { "pid == \($0)" }.joined(separator: " || ")
        for e in ["sched_waking", "sched_wakeup"] where !ring.isEmpty && t.wakeEvent == nil {
            if write(dir + "/events/sched/\(e)/filter", pidFilter) && write(dir + "/events/sched/\(e)/enable", "1") { t.wakeEvent = e }
        }
        var enabled = 0
        for e in ["sched/sched_switch", "irq/irq_handler_entry", "irq/softirq_entry", "irq_vectors/local_timer_entry",
                  "irq_vectors/call_function_entry", "irq_vectors/call_function_single_entry"]
            where write(dir + "/events/\(e)/enable", "1") { enabled += 1 }
        guard enabled > 0, write(dir + "/tracing_on", "1") else { t.remove(); return .unavailable("no tracepoint could be enabled") }
        return .started(t)
    }

    /// Stops recording, reads the events, removes the instance.
    func stop() -> Recording {
        _ = Self.write(dir + "/tracing_on", "0")
        let bytes = Self.readBytes(dir + "/trace") ?? []
        let lost = lostPerCPU()
        remove()
        var r = Self.parseAll(bytes, own: Self.ownThreads(), ring: ringPIDs)
        r.wakeEvent = wakeEvent ?? ""
        r.lost = lost.values.reduce(0, +)
        // The buffer keeps the newest events: on a CPU that lost some, only what follows its first kept one is whole.
        for (cpu, n) in lost where n > 0 { r.since = max(r.since, r.firstTicks[cpu] ?? UInt64.max) }
        return r
    }

    /// Events each CPU's buffer overwrote (`per_cpu/cpuN/stats`, "overrun:").
    private func lostPerCPU() -> [Int: Int] {
        var out: [Int: Int] = [:]
        for d in (try? FileManager.default.contentsOfDirectory(atPath: dir + "/per_cpu")) ?? [] where d.hasPrefix("cpu") {
            guard let cpu = Int(d.dropFirst(3)), let stats = Self.read(dir + "/per_cpu/\(d)/stats") else { continue }
            for line in stats.split(separator: "\n") where line.hasPrefix("overrun:") {
                out[cpu] = Int(line.dropFirst(8).trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        return out
    }

    private func remove() {
        rmdir(dir)
        if mounted { umount2(Self.root, 0) }
        sb_track_trace_instance(nil, nil)
    }

    /// This process's threads (a switch to one of them is this run's own doing, named so).
    static func ownThreads() -> Set<Int> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int($0) })
    }

    /// The causes in the `trace` file (default format, a counter clock prints ticks, the others s.µs):
    ///   "  kworker/0:1-42  [000] d.h1.  8812345678: local_timer_entry: vector=236"
    static func parse(_ text: String, own: Set<Int> = []) -> [Event] { parseAll(Array(text.utf8), own: own).causes }

    /// The whole `trace` file in one pass over its bytes: with the ring's own events it holds two lines a
    /// traced hand-off (100 000 and more), so those are read as bytes; the few cause lines go through
    /// `cause(event:args:)`. A switch to a ring task (`ring`) is its switch in, never a cause.
    static func parseAll(_ bytes: [UInt8], own: Set<Int> = [], ring: Set<Int> = []) -> Recording {
        var r = Recording()
        bytes.withUnsafeBufferPointer { b in
            var start = 0
            while start < b.count {
                var end = start
                while end < b.count && b[end] != 10 { end += 1 }
                defer { start = end + 1 }
                guard b[start] != 35, let l = Line(b, start, end) else { continue }   // 35: "#"
                if r.firstTicks[l.cpu] == nil { r.firstTicks[l.cpu] = l.ticks }
                if l.is(b, "sched_waking") || l.is(b, "sched_wakeup") {
                    if let pid = l.int(b, after: " pid="), ring.contains(pid) {
                        r.ring.append(RingEvent(kind: .waking, cpu: l.cpu, ticks: l.ticks, pid: pid))
                    }
                    continue
                }
                let isSwitch = l.is(b, "sched_switch")
                let next = isSwitch ? l.int(b, after: "next_pid=") : nil
                if let next, ring.contains(next) {
                    r.ring.append(RingEvent(kind: .switchIn, cpu: l.cpu, ticks: l.ticks, pid: next,
                                            prevRunnable: l.firstByte(b, after: " prev_state=").map { $0 == 82 },   // 82: "R"
                                            prevPid: l.int(b, after: " prev_pid=")))
                    continue
                }
                let name = String(decoding: UnsafeBufferPointer(rebasing: b[l.name]), as: UTF8.self)
                let args = String(decoding: UnsafeBufferPointer(rebasing: b[l.args]), as: UTF8.self)
                guard let (named, rank) = cause(event: name, args: args) else { continue }
                let cause = next.map(own.contains) == true ? "task switchbench (this run)" : named
                r.causes.append(Event(cpu: l.cpu, ticks: l.ticks, cause: cause, rank: rank))
            }
        }
        return r
    }

    /// One line of the `trace` file, located in its bytes: "… [001] d..2.  2000: sched_switch: args".
    struct Line {
        var cpu: Int
        var ticks: UInt64
        var name: Range<Int>
        var args: Range<Int>

        init?(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
            // The CPU: the first "[digits]" (a task name may hold brackets, not followed by digits only).
            var i = start, cpu = -1
            while i < end && cpu < 0 {
                if b[i] == 91, let (v, j) = Line.number(b, i + 1, end), j < end, b[j] == 93 { cpu = Int(v); i = j }
                i += 1
            }
            // The stamp: the token before the next ":" (ticks, or seconds with a fraction).
            var colon = i
            while colon < end && b[colon] != 58 { colon += 1 }
            var t = colon
            while t > i && b[t - 1] != 32 { t -= 1 }
            guard cpu >= 0, colon < end, let (whole, j) = Line.number(b, t, colon) else { return nil }
            if j == colon {
                ticks = whole
            } else {
                guard b[j] == 46, let (frac, k) = Line.number(b, j + 1, colon), k == colon else { return nil }
                ticks = whole * 1_000_000_000 + frac * UInt64(pow(10, Double(9 - min(9, k - j - 1))))
            }
            // "name: args".
            var n = colon + 1
            while n < end && b[n] == 32 { n += 1 }
            var e = n
            while e < end && b[e] != 58 { e += 1 }
            guard e < end else { return nil }
            self.cpu = cpu
            name = n..<e
            args = min(e + 2, end)..<end
        }

        /// Decimal digits from `i` (at least one): their value and where they end.
        static func number(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> (UInt64, Int)? {
            var v: UInt64 = 0, j = i
            while j < end && b[j] >= 48 && b[j] <= 57 { v = v &* 10 &+ UInt64(b[j] - 48); j += 1 }
            return j > i ? (v, j) : nil
        }

        func `is`(_ b: UnsafeBufferPointer<UInt8>, _ event: StaticString) -> Bool {
            guard name.count == event.utf8CodeUnitCount else { return false }
            let p = event.utf8Start
            for k in 0..<name.count where b[name.lowerBound + k] != p[k] { return false }
            return true
        }

        /// Where the value after the last `key` in the arguments starts (fields after a task name are
        /// fixed-format); nil when the key is absent or ends the line.
        func valueStart(_ b: UnsafeBufferPointer<UInt8>, after key: StaticString) -> Int? {
            let p = key.utf8Start, n = key.utf8CodeUnitCount
            var i = args.upperBound - n - 1
            while i >= args.lowerBound {
                var k = 0
                while k < n && b[i + k] == p[k] { k += 1 }
                if k == n { return i + n }
                i -= 1
            }
            return nil
        }

        /// The first byte of the value after the last `key` (`prev_state=R+` → "R").
        func firstByte(_ b: UnsafeBufferPointer<UInt8>, after key: StaticString) -> UInt8? {
            valueStart(b, after: key).map { b[$0] }
        }

        /// The integer after the last `key` in the arguments.
        func int(_ b: UnsafeBufferPointer<UInt8>, after key: StaticString) -> Int? {
            valueStart(b, after: key).flatMap { Line.number(b, $0, args.upperBound).map { Int($0.0) } }
        }
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

    /// `events` on one of `cpus` (all CPUs when empty), in time order.
    static func sorted(_ events: [Event], on cpus: Set<Int>) -> [Event] {
        events.filter { cpus.isEmpty || cpus.contains($0.cpu) }.sorted { $0.ticks < $1.ticks }
    }

    /// The events of time-ordered `es` between a hand-off's two stamps (both included).
    static func between(_ es: [Event], _ h: (sent: UInt64, recv: UInt64)) -> ArraySlice<Event> {
        let lo = es.firstIndex(atOrAfter: h.sent) { $0.ticks }
        let hi = es.firstIndex(atOrAfter: h.recv &+ 1) { $0.ticks }
        return es[lo..<max(lo, hi)]
    }

    /// The causes that more than half of `handOffs` have between their stamps (each counted once per
    /// hand-off, whatever its rank): events that come with every hand-off, so never a cause of its tail.
    static func commonCauses(_ handOffs: [(sent: UInt64, recv: UInt64)], events: [Event], cpus: Set<Int>) -> Set<String> {
        let es = sorted(events, on: cpus)
        var seen: [String: Int] = [:]
        for h in handOffs {
            for c in Set(between(es, h).map(\.cause)) { seen[c, default: 0] += 1 }
        }
        return Set(seen.filter { $0.value * 2 > handOffs.count }.keys)
    }

    /// The cause of each slow hand-off: the best-ranked event on one of `cpus` (all CPUs when
    /// empty) between its two stamps, else "none traced". `slow`: (sent, recv) in ticks.
    static func attribute(_ slow: [(sent: UInt64, recv: UInt64)], events: [Event], cpus: Set<Int>) -> [String: Int] {
        let es = sorted(events, on: cpus)
        var counts: [String: Int] = [:]
        for h in slow {
            let best = between(es, h).min { $0.rank < $1.rank }
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

    static func read(_ path: String) -> String? { readBytes(path).map { String(decoding: $0, as: UTF8.self) } }

    static func readBytes(_ path: String) -> [UInt8]? {
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
        return out
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
