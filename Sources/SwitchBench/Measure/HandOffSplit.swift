import Foundation

/// Where one hand-off's time goes (docs/methodology.md, "Where a hand-off's time goes"), from the ring's
/// own scheduler events that `TailTrace` recorded between the hand-off's two stamps, S (the waker's,
/// right before it wakes) and R (the wakee's, right after its wait returned):
///   W  the wakee's first wake-up (`sched_waking`) at or after S, not after R
///   I  the wakee's first switch in at or after W, not after R
/// The hand-off then splits into three parts that add up to R − S:
///   waker         S → W  the waker's system call up to the wake-up (futex store and FUTEX_WAKE, or write)
///   wake_to_run   W → I  what perf sched timehist calls the scheduling delay ("sch delay"), which also
///                        starts at sched_waking when that was recorded
///   return        I → R  from the switch in back to the wakee's user code (the wait's return)
/// A hand-off without W (the wakee had not gone to sleep: no wake-up) or without I (woken before it was
/// switched out) is not split, and counted as such. Ticks throughout (the stamp clock, which is the
/// trace's clock). Measuring only: the rows' facts are written in RingLatency.swift.
enum HandOffSplit {
    struct HandOff: Equatable {
        var sent: UInt64
        var recv: UInt64
        /// The wakee's kernel thread id (the pid the scheduler's events name).
        var wakee: Int
        /// The waking task, where known (its switch out at the wakee's switch in names the path).
        var waker: Int? = nil
    }

    /// What the wakee's switch in replaced: its waker, still runnable (the wakee preempted it) or asleep
    /// (the wakee ran once it slept); the CPU's idle task (a wake-up of an idle CPU); another task.
    enum Path: String, CaseIterable { case preemptedWaker = "preempted", wakerSlept = "slept", idle, other }

    struct Parts: Equatable {
        var waker: UInt64
        var wakeToRun: UInt64
        var back: UInt64
        /// Whether the task switched out at `I` was still runnable (on one CPU: the waker, preempted by
        /// the task it woke, rather than asleep in its own wait); nil where the trace did not say.
        var path: Path? = nil
        var whole: UInt64 { waker + wakeToRun + back }
    }

    /// `noWaking`: no wake-up of the wakee between the stamps (it had not gone to sleep: on one CPU, a
    /// task that preempted its waker earlier and was still runnable), with the hand-off's whole time.
    enum Outcome: Equatable { case split(Parts), noWaking(whole: UInt64), noSwitchIn }

    static func split(_ handOffs: [HandOff], events: [TailTrace.RingEvent]) -> [Outcome] {
        var wakings: [Int: [UInt64]] = [:], switchIns: [Int: [UInt64]] = [:], replaced: [UInt64: (pid: Int?, runnable: Bool?)] = [:]
        for e in events {
            switch e.kind {
            case .waking: wakings[e.pid, default: []].append(e.ticks)
            case .switchIn:
                switchIns[e.pid, default: []].append(e.ticks)
                replaced[e.ticks] = (e.prevPid, e.prevRunnable)
            }
        }
        func path(_ i: UInt64, waker: Int?) -> Path? {
            guard let r = replaced[i], let pid = r.pid else { return nil }
            if pid == 0 { return .idle }
            guard let waker, pid == waker, let runnable = r.runnable else { return .other }
            return runnable ? .preemptedWaker : .wakerSlept
        }
        for k in wakings.keys { wakings[k]!.sort() }
        for k in switchIns.keys { switchIns[k]!.sort() }
        return handOffs.map { h in
            guard h.recv >= h.sent else { return .noWaking(whole: 0) }
            guard let w = first(wakings[h.wakee] ?? [], atOrAfter: h.sent), w <= h.recv else { return .noWaking(whole: h.recv - h.sent) }
            guard let i = first(switchIns[h.wakee] ?? [], atOrAfter: w), i <= h.recv else { return .noSwitchIn }
            return .split(Parts(waker: w - h.sent, wakeToRun: i - w, back: h.recv - i, path: path(i, waker: h.waker)))
        }
    }

    /// The first of ascending `ticks` at or after `t`.
    static func first(_ ticks: [UInt64], atOrAfter t: UInt64) -> UInt64? {
        let i = ticks.firstIndex(atOrAfter: t) { $0 }
        return i < ticks.count ? ticks[i] : nil
    }

    /// p50 and p99 of each part, in ns (`ns` converts ticks), over the split hand-offs; and the counts.
    struct Summary: Equatable {
        var split = 0, noWaking = 0, noSwitchIn = 0
        /// The split ones by what their switch in replaced.
        var paths: [Path: Int] = [:]
        /// Part name ("waker", "wake_to_run", "return", "whole"; "whole_no_waking": the hand-offs not
        /// split, without a wake-up; "whole_<path>": the split ones by `Path`) → (p50, p99) ns.
        var parts: [String: (p50: Double, p99: Double)] = [:]

        static func == (a: Summary, b: Summary) -> Bool {
            (a.split, a.noWaking, a.noSwitchIn, a.paths) == (b.split, b.noWaking, b.noSwitchIn, b.paths)
                && a.parts.mapValues { [$0.p50, $0.p99] } == b.parts.mapValues { [$0.p50, $0.p99] }
        }
    }

    static let partNames = ["waker", "wake_to_run", "return", "whole"]

    static func summary(_ outcomes: [Outcome], ns: (UInt64) -> Double) -> Summary {
        var s = Summary()
        var values: [String: [Double]] = [:]
        for o in outcomes {
            switch o {
            case .noWaking(let whole):
                s.noWaking += 1
                if whole > 0 { values["whole_no_waking", default: []].append(ns(whole)) }
            case .noSwitchIn: s.noSwitchIn += 1
            case .split(let p):
                s.split += 1
                for (name, t) in zip(partNames, [p.waker, p.wakeToRun, p.back, p.whole]) { values[name, default: []].append(ns(t)) }
                if let path = p.path {
                    values["whole_" + path.rawValue, default: []].append(ns(p.whole))
                    s.paths[path, default: 0] += 1
                }
            }
        }
        for (name, v) in values {
            let sorted = v.sorted()
            guard let p50 = Percentile.of(sorted: sorted, name: "p50", q: 0.5),
                  let p99 = Percentile.of(sorted: sorted, name: "p99", q: 0.99) else { continue }
            s.parts[name] = (p50.ns, p99.ns)
        }
        return s
    }
}

extension Array {
    /// The index of the first element whose `key` is at or after `t` (`count` when none), the keys
    /// ascending: a binary search, for the trace's time-ordered events and ticks.
    func firstIndex(atOrAfter t: UInt64, key: (Element) -> UInt64) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if key(self[mid]) < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
