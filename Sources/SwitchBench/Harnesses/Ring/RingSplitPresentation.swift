import Foundation

/// results.md: where the traced one-way hand-offs spent their time (`HandOffSplit`, the `part_*` facts
/// that RingLatency.swift writes on the `hand_off_ab` and `hand_off_ba` rows).
extension TokenRingHarness {
    static func splitRows(_ run: RunResult) -> [Record] {
        latencyRows(run).filter { $0.metric != "hand_off_round_trip" && ($0.fact("parts_split") != nil || $0.fact("parts_unavailable") != nil) }
    }

    /// "1.45 µs / 27.5 µs": a part's p50 and p99.
    static func partText(_ r: Record, _ part: String) -> String {
        guard let p50 = r.factNumber("part_\(part)_p50_ns"), let p99 = r.factNumber("part_\(part)_p99_ns") else { return "–" }
        return Format.value(p50, unit: "ns") + " / " + Format.value(p99, unit: "ns")
    }

    /// "13706 / 25000", with the hand-offs left unsplit and events the trace lost; or n/a with the reason.
    static func splitCount(_ r: Record, _ lang: Language) -> String {
        if let why = r.fact("parts_unavailable") { return lang.t("n/a: \(why)", "无法得知：`\(why)`") }
        let n = { (k: String) in Int(r.factNumber(k) ?? 0) }
        let traced = n("parts_split") + n("parts_no_waking") + n("parts_no_switch_in")
        var s = "\(n("parts_split")) / \(traced)"
        if n("parts_no_waking") > 0 { s += lang.t(", \(n("parts_no_waking")) without a wake-up", "，\(n("parts_no_waking")) 次没有唤醒") }
        if n("parts_no_switch_in") > 0 { s += lang.t(", \(n("parts_no_switch_in")) woken before switched out", "，\(n("parts_no_switch_in")) 次在切换下处理器之前就被唤醒") }
        if n("parts_trace_lost_events") > 0 {
            s += lang.t(" (the trace lost \(n("parts_trace_lost_events")) events: hand-offs before them left out)",
                        "（跟踪丢失 \(n("parts_trace_lost_events")) 个事件，之前的交接不计）")
        }
        return s
    }

    /// The paths of a traced hand-off, end to end, p50 / p99 and how many, by what the wakee's switch in
    /// replaced (`HandOffSplit.Path`); then those not woken at all (still runnable when their hand-off came).
    static func pathsText(_ r: Record, _ lang: Language) -> String {
        let n = { (k: String) in Int(r.factNumber(k) ?? 0) }
        guard r.fact("parts_path_\(HandOffSplit.Path.preemptedWaker.rawValue)") != nil else { return "–" }
        // The facts RingLatency writes per path: part_whole_<path>_p50_ns …, parts_path_<path>.
        let paths = pathNames.map { ("whole_\($0.path.rawValue)", lang.t($0.en, $0.zh), n("parts_path_\($0.path.rawValue)")) }
            + [("whole_no_waking", lang.t("no wake-up", "没有唤醒"), n("parts_no_waking"))]
        return paths.filter { $0.2 > 0 }
            .map { lang.t("\($0.1): \(partText(r, $0.0)) (\($0.2))", "\($0.1)：\(partText(r, $0.0))（\($0.2) 次）") }
            .joined(separator: lang.t("; ", "；"))
    }

    /// Each path for people, in the order the cell lists them: what the wakee's switch in replaced.
    static let pathNames: [(path: HandOffSplit.Path, en: String, zh: String)] = [
        (.preemptedWaker, "preempted its waker", "抢占了唤醒方"), (.wakerSlept, "ran once its waker slept", "唤醒方睡下后才运行"),
        (.idle, "woke an idle CPU", "唤醒了空闲的处理器"), (.other, "replaced another task", "换下了别的任务")]

    static func splitSection(_ run: RunResult, lang: Language) -> String? {
        let rows = splitRows(run)
        guard !rows.isEmpty else { return nil }
        let intro = lang.t("""
        **Where a one-way hand-off's time goes.** From the traced run's own scheduler events, on the stamp \
        clock: `S` the waker's stamp, `W` the wakee's wake-up (`sched_waking`), `I` its switch in \
        (`sched_switch`), `R` the wakee's stamp. *Waker* `S→W` is the waker's system call up to the wake-up; \
        *wake to run* `W→I` is what `perf sched timehist` calls the scheduling delay (*sch delay*, from \
        `sched_waking` to the switch in); *return* `I→R` the way from the switch in back to the wakee's code. \
        Each cell is p50 / p99 over the split hand-offs; one whose wakee had not gone to sleep (no wake-up \
        between the stamps) or was woken before it was switched out is not split (*split / traced*). *Whole, \
        traced* is those split hand-offs end to end; the tracepoints cost time, so compare it with the untraced \
        whole of the table above. *By path*, from what the wakee's switch in replaced (`prev_pid`, `prev_state`): \
        its waker, still runnable (the wakee preempted it) or asleep (the wakee ran once it slept: only then does \
        `W→I` hold the waker's way to sleep); the idle task (a wake-up of an idle CPU); another task; or the \
        wakee was not woken at all (still runnable when its hand-off came); each end to end, p50 / p99 (how many).
        """, """
        **单程交接的时间花在哪里。** 取自跟踪那次运行里内核自己的调度事件，用的是时间戳的时钟：`S` 是唤醒方的时间戳，\
        `W` 是被唤醒方被唤醒（`sched_waking`），`I` 是它被切换上处理器（`sched_switch`），`R` 是被唤醒方的时间戳。\
        唤醒方 `S→W` 是唤醒方的系统调用直到唤醒；唤醒到运行 `W→I` 就是 `perf sched timehist` 所说的调度延迟\
        （`sch delay`，从 `sched_waking` 到切换上处理器）；返回 `I→R` 是从切换上处理器回到被唤醒方自己的代码。\
        每格是拆开的交接的 p50 / p99；被唤醒方还没睡下（两个时间戳之间没有唤醒），或者在切换下处理器之前就被唤醒的交接不拆\
        （见“拆开 / 跟踪”一列）。“整次（跟踪时）”是这些拆开的交接从头到尾的时间；跟踪点本身要花时间，请与上表未跟踪的整次对照。\
        “按路径”看被唤醒方切换上处理器时换下的是谁（`prev_pid`、`prev_state`）：是唤醒方且它仍可运行（被唤醒方抢占了它），\
        或唤醒方已睡下（被唤醒方等它睡下才运行：只有这时 `W→I` 才包含唤醒方走到睡眠的那一段）；是空闲任务（唤醒了空闲的处理器）；\
        是别的任务；或者被唤醒方根本没有被唤醒（交接到来时它仍可运行）；每种都是从头到尾的 p50 / p99（次数）。
        """)
        if let why = rows.first?.fact("parts_unavailable"), rows.allSatisfy({ $0.fact("parts_unavailable") == why }) {
            return intro + "\n\n" + lang.t("Not split in this run: \(why).", "这次运行没有拆分：`\(why)`。")
        }
        var t = MarkdownTable(lang == .en
            ? ["task", "mechanism", "placement", "direction", "split / traced", "waker `S→W`", "wake to run `W→I`", "return `I→R`",
               "whole, traced", "whole, traced, by path", "whole, untraced", "valid"]
            : ["任务", "机制", "放置", "方向", "拆开 / 跟踪", "唤醒方 `S→W`", "唤醒到运行 `W→I`", "返回 `I→R`",
               "整次（跟踪时）", "整次（跟踪时），按路径", "整次（未跟踪）", "有效"])
        for r in rows {
            let l = r.latency
            let untraced = Format.value(l?.percentile("p50")?.ns, unit: "ns") + " / " + Format.value(l?.percentile("p99")?.ns, unit: "ns")
            t.add([taskKindName(r.harness, lang), "`\(r.mechanism)`", Terms.placement(r.placement, lang), direction(r.metric, lang),
                   splitCount(r, lang), partText(r, "waker"), partText(r, "wake_to_run"), partText(r, "return"), partText(r, "whole"),
                   pathsText(r, lang), untraced, Format.valid(r.valid, lang: lang)])
        }
        return intro + "\n\n" + t.text
    }
}
