import Foundation

/// The events harness's presentation (claim C9, 二是减少了系统切换开销): plain functions over records.
public enum EventsPresentation {
    static let kinds = ["thread", "process", "asm", "swift-task"]

    /// K of a per_event_k<K> metric.
    static func burst(_ metric: String) -> Int? {
        metric.hasPrefix("per_event_k") ? Int(metric.dropFirst("per_event_k".count)) : nil
    }

    static func events(_ records: [Record], placement: String) -> [Record] {
        records.filter { $0.harness == "events" && $0.placement == placement && burst($0.metric) != nil }
    }

    struct NK: Hashable { var n: Int; var k: Int }

    /// The (N, K) cases of one mechanism.
    static func nkPairs(_ rs: [Record], _ mechanism: String) -> Set<NK> {
        var out = Set<NK>()
        for r in rs where r.mechanism == mechanism {
            if let k = burst(r.metric) { out.insert(NK(n: r.tasks, k: k)) }
        }
        return out
    }

    static func ringMedian(_ records: [Record], _ mechanism: String, _ placement: String) -> Double? {
        records.first { $0.harness == "events" && $0.mechanism == mechanism && $0.placement == placement
                        && $0.tasks == 1 && $0.metric == "ring_round_trip" }?.stats?.median
    }

    static func find(_ rs: [Record], _ mechanism: String, _ n: Int, _ k: Int) -> Record? {
        rs.first { $0.mechanism == mechanism && $0.tasks == n && $0.metric == EventsHarness.eventMetric(k) }
    }

    /// Cost per event by kind, N and K (one placement): time, kernel switches per event, the expectation.
    public static func table(_ records: [Record], language: Language, placement: String = "same-cpu") -> String {
        let rs = events(records, placement: placement)
        guard !rs.isEmpty else { return "" }
        let zh = language == .zh
        let header = zh
            ? ["种类", "N", "K", "每事件耗时", "每事件内核切换", "应为", "有效", "备注"]
            : ["kind", "N", "K", "time / event", "kernel switches / event", "expected", "valid", "note"]
        var lines: [[String]] = []
        for m in kinds {
            let keys = nkPairs(rs, m).sorted { a, b in a.k != b.k ? a.k < b.k : a.n < b.n }
            for key in keys {
                let n = key.n, k = key.k
                guard let r = find(rs, m, n, k) else { continue }
                if let reason = ManyFormat.naReason(r) {
                    lines.append([ManyFormat.kind(m, language), ManyFormat.count(n), String(k), "n/a", "n/a", "", "",
                                  (zh ? "未运行：" : "not run: ") + reason])
                    continue
                }
                var note = ""
                if !r.valid, let why = r.note.components(separatedBy: "; ").first(where: { $0.hasPrefix("invalid:") }) { note = why }
                if n == 1, let rm = ringMedian(records, m, placement), let em = r.stats?.median {
                    let pct: Double = (em - rm) / rm * 100
                    let rt: String = ManyFormat.time(rm)
                    let text: String = zh ? String(format: "环形基准（pipe，2 个任务）往返 %@，本行 %+.0f %%", rt, pct)
                                          : String(format: "ring harness (pipe, 2 tasks) round trip %@, this row %+.0f %%", rt, pct)
                    note += (note.isEmpty ? "" : "; ") + text
                }
                lines.append([ManyFormat.kind(m, language), ManyFormat.count(n), String(k), ManyFormat.time(r.stats?.median),
                              r.switchesPerOp.map { String(format: "%.3f", $0) } ?? "n/a",
                              r.expectedSwitchesPerOp.map { String(format: "%.3f", $0) } ?? "",
                              r.valid ? (zh ? "是" : "yes") : (zh ? "**否**" : "**no**"), note])
            }
        }
        let caption = zh
            ? "每个事件的开销（\(placement)）：N 个任务各自等待自己的 eventfd，驱动方一次让 K 个随机任务就绪，每个任务做固定的少量工作后回复。每线程/每进程一个任务：每次突发切换 K + 1 次；事件循环上的协程：每次突发 2 次（驱动方 → 事件循环线程 → 驱动方）。\n\n"
            : "Cost per event (\(placement)): N tasks each wait on their own eventfd; the driver makes K random tasks ready at once, each does a small fixed amount of work and replies. A thread or process per task: K + 1 kernel switches per burst; coroutines on an event loop: 2 per burst (driver → loop thread → driver).\n\n"
        return caption + ManyFormat.table(header, lines)
    }

    /// C9: on one CPU, at the largest N and K where thread and asm coroutine were both measured, the event
    /// loop spends fewer kernel switches and less time per event than a thread per task.
    public static func claim(_ records: [Record], language: Language) -> ManyClaim {
        let rs = events(records, placement: "same-cpu").filter { $0.stats != nil }
        let zh = language == .zh
        let rule = zh
            ? "同一 CPU 上，在线程与 asm 协程都测到的最大 K（其次最大 N）：协程每事件的内核切换更少且每事件耗时更短则成立；切换更少但耗时不更短、或两者都不更少则不成立；只有 K = 1（每次只有一个任务就绪，两者都是每事件 2 次切换）或缺数据则无法判定。"
            : "On one CPU, at the largest K (then largest N) where thread and asm coroutine were both measured: fewer kernel switches and less time per event for the coroutine holds; otherwise does not hold; only K = 1 (one ready task per wake-up: 2 switches per event for both) or missing data is inconclusive."
        let pairs = nkPairs(rs, "thread").intersection(nkPairs(rs, "asm"))
            .sorted { a, b in a.k != b.k ? a.k > b.k : a.n > b.n }
        guard let best = pairs.first, let t = find(rs, "thread", best.n, best.k), let a = find(rs, "asm", best.n, best.k),
              let tm = t.stats?.median, let am = a.stats?.median, let ts = t.switchesPerOp, let asw = a.switchesPerOp else {
            return ManyClaim(id: "C9", verdict: .inconclusive, rule: rule,
                             text: zh ? "同一 CPU 上没有同时测到线程和协程的事件开销。" : "no same-cpu case where thread and coroutine were both measured.")
        }
        let n = best.n, k = best.k
        let p = find(rs, "process", n, k)
        let s = find(rs, "swift-task", n, k)
        func part(_ r: Record?, _ m: String) -> String {
            guard let r, let med = r.stats?.median else { return "" }
            let fmt = zh ? "，%@ %@（%.2f 次切换）" : ", %@ %@ (%.2f switches)"
            let spo: Double = r.switchesPerOp ?? .nan
            return String(format: fmt, ManyFormat.kind(m, language), ManyFormat.time(med), spo)
        }
        let head = zh ? "N = %@、K = %d 时每事件：线程 %@（%.2f 次内核切换），asm 协程 %@（%.2f 次）"
                      : "per event at N = %@, K = %d: thread %@ (%.2f kernel switches), asm coroutine %@ (%.2f)"
        var numbers = String(format: head, ManyFormat.count(n), k, ManyFormat.time(tm), ts, ManyFormat.time(am), asw)
        numbers += part(p, "process") + part(s, "swift-task")
        let ratio: Double = tm / am
        numbers += String(format: zh ? "；线程每事件耗时是协程的 %.1f 倍。" : "; a thread per task takes %.1f× the coroutine's time per event.", ratio)
        let verdict: ManyClaim.Verdict
        if k == 1 {
            verdict = .inconclusive
        } else {
            verdict = asw < ts && am < tm ? .holds : .doesNotHold
        }
        let extra = k == 1
            ? (zh ? " 只有 K = 1：每次唤醒只有一个任务就绪，事件循环与每任务一线程都是每事件 2 次切换；用 --burst 1,16 判断。"
                  : " Only K = 1: one ready task per wake-up switches twice per event either way; run with --burst 1,16 to decide.")
            : ""
        return ManyClaim(id: "C9", verdict: verdict, rule: rule, text: numbers + extra)
    }
}
