import Foundation

/// The blocking harness's section and claim C4.
extension BlockingHarness {
    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let rows = run.records(harness: id)
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(lang == .en
            ? ["coroutines", "M", "longest gap, blocking read", "longest gap, non-blocking read", "ratio",
               "others' turns during the read (blocking, non-blocking)", "voluntary switches / repetition (blocking, non-blocking)", "valid"]
            : ["协程", "M", "最长间隔（阻塞读）", "最长间隔（非阻塞读）", "比值",
               "读的期间其他协程得到的轮次（阻塞，非阻塞）", "每次重复的自愿切换次数（阻塞，非阻塞）", "有效"])
        for m in rows.map(\.mechanism).orderedUnique() {
            func get(_ metric: String, _ mode: ReadMode) -> Record? { rows.first { $0.mechanism == m && $0.metric == metric && $0.readMode == mode } }
            let b = get(Self.maxGapMetric, .blocking), n = get(Self.maxGapMetric, .nonblocking)
            func turns(_ mode: ReadMode) -> String { get(Self.turnsMetric, mode)?.stats.map { String(format: "%.0f", $0.median) } ?? "n/a" }
            t.add([lang == .zh ? ManyFormat.kind(m, lang) : m, String(b?.tasks ?? n?.tasks ?? 0), Format.median(b), Format.median(n),
                   Format.ratio(b?.stats?.median, n?.stats?.median),
                   "\(turns(.blocking)), \(turns(.nonblocking))",
                   "\(Format.number(b?.switchesPerOp)), \(Format.number(n?.switchesPerOp))",
                   TokenRingHarness.validity([b, n], lang)])
        }
        let setup = rows.first { $0.metric == Self.maxGapMetric && $0.readMode == .blocking }.map(BlockingSetup.from)
        let delay = setup?.delayNs.map { humanTime($0) } ?? lang.t("T (not recorded)", "T（未记录）")
        let m = setup?.coroutines ?? 0
        let intro = lang.t("""
        \(m) coroutines share one thread; coroutine 0 reads a pipe that another thread writes after T = \(delay).
        Value: the longest wait of any other coroutine between two of its turns, median over the repetitions.
        With a blocking `read` the thread sleeps in the kernel (one voluntary switch) and no other coroutine gets
        a turn for ≈ T; with `O_NONBLOCK` + yield the others keep running and wait only a few switches. The
        non-blocking thread does not block in `read`, so on a busy machine the kernel preempts it now and then and the
        longest gap includes those waits.
        """, """
        \(m) 个协程共用一个线程；0 号协程读一个管道，另一个线程在 T = \(delay) 之后才往里写。
        表里的值是：其他协程两次轮到之间等得最久的一次，取各次重复的中位数。
        用阻塞的 `read` 时，整个线程在内核中阻塞（一次自愿切换），大约 T 这么久没有任何别的协程能运行；
        改成 `O_NONBLOCK` 再让出，其他协程照常运行，只需等几次切换。非阻塞的线程不会在 `read` 中阻塞，
        所以机器忙的时候内核会不时抢占它，最长间隔里也包含了这些等待。
        """)
        let heading = lang.t("## A blocking call stalls every coroutine on its thread (claim C4)", "## 一个阻塞调用会卡住同一线程上的所有协程（说法 C4）")
        return Claims.section(heading, [intro, t.text], run, lang)
    }

    static let claimText = Claims.Text("C4", title: ("A blocking call in one coroutine blocks every coroutine on that thread.", "一个协程里的阻塞调用会让同一线程上的所有协程都停下来。"),
                                       quote: "在协程调用阻塞IO操作的时候，……当前的协程和其它绑定在该线程之上的协程都会陷入阻塞而得不到调度",
                                         rule: ("""
                                             blocking harness. The turns the other coroutines got while coroutine 0 waited for its byte decide when both turns \
                                             rows are valid: holds when they got none (median 0) with the blocking read and at least one with the non-blocking \
                                             read; does not hold when they got at least half as many with the blocking read as with the non-blocking one; \
                                             otherwise inconclusive. Without valid turns rows, the max_gap rows: holds when the smallest stall with a blocking \
                                             read is ≥ 10× the largest stall with the non-blocking read and its CI low is above that row's CI high; does not \
                                             hold when it is under 2×; otherwise inconclusive. (The stall ratio grows with the chosen wait T; the turns do \
                                             not.)
                                             """,
                         """
                         `blocking` 测试。两行“轮次”都有效时由它们判定：0 号协程等待数据期间，用阻塞读时其他协程一次也没有得到运行（中位数为 0），用非阻塞读时至少得到一次，则成立；阻塞读时得到的次数不少于非阻塞读时的一半，则不成立；其余无法判定。\
                         没有有效的轮次行时看 max_gap 行：阻塞读时其他协程最短的停顿是非阻塞读时最长停顿的 10 倍以上，且前者的区间下限高于后者的区间上限，则成立；不到 2 倍则不成立；其余无法判定。（停顿之比随所选的等待时间 T 变大，轮次不会。）
                         """),
                                         ruleID: "C4.turns.v2")

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang)
        let rows = run.records(harness: id).filter { $0.stats != nil }
        let block = rows.filter { $0.metric == Self.maxGapMetric && $0.readMode == .blocking }
        let nonb = rows.filter { $0.metric == Self.maxGapMetric && $0.readMode == .nonblocking }
        c.evidence = block + nonb
        guard !rows.isEmpty else { return [c] }
        guard let b = block.min(by: { Claims.med($0) < Claims.med($1) }), let n = nonb.max(by: { Claims.med($0) < Claims.med($1) }) else {
            c.undecided(lang.t("blocking rows present but not both a blocking and a non-blocking case", "有 `blocking` 的数据，但阻塞和非阻塞两种情况不全"))
            return [c]
        }
        if let w = Claims.invalidWhy([b, n], lang) { c.undecided(w); return [c] }
        let (mb, mn) = (Claims.med(b), Claims.med(n))
        let delay = BlockingSetup.from(b).delayNs.map { humanTime($0) } ?? "T"
        let ratio = mb / max(mn, 1e-9)
        c.values.append(.init("blocking_over_nonblocking_stall", ratio, unit: "ratio"))
        c.measured.append(lang.t("stall with blocking read ÷ with non-blocking read = \(Format.times(ratio)) (\(humanTime(mb)) vs \(humanTime(mn)))",
                                 "阻塞读时的停顿 ÷ 非阻塞读时的停顿 = \(Format.times(ratio))（\(humanTime(mb)) 对 \(humanTime(mn))）"))
        // The evidence a reader can check by eye: the turns the others got while the read waited
        // (0 with a blocking read); the stall ratio depends on the chosen block time T.
        func turns(_ mode: ReadMode) -> Record? {
            rows.first { $0.mechanism == b.mechanism && $0.metric == Self.turnsMetric && $0.readMode == mode && $0.valid }
        }
        let tb = turns(.blocking).map(Claims.med), tn = turns(.nonblocking).map(Claims.med)
        if let tb { c.values.append(.init("turns_during_blocking_read", tb, unit: "turns")) }
        if let tn { c.values.append(.init("turns_during_nonblocking_read", tn, unit: "turns")) }
        // Counts grouped as every count on the page is (`ManyFormat.count`: 38 112, 1 000).
        let turnsText = { (v: Double?) in v.map { ManyFormat.count(Int($0.rounded())) } ?? "?" }
        c.decide(Claims.ratioVerdict(b, over: n, atLeast: 10, failsBelow: 2),
                 holds: lang.t("""
                     while one coroutine waited \(delay) in a blocking read, the others on its thread got no turn for \(humanTime(mb)); with the read made \
                     non-blocking their longest wait was \(humanTime(mn)). This stall ratio (\(Format.times(ratio))) follows the chosen wait of \(delay) (the \
                     turn counts, which decide when both are valid, are not usable here). The note should add that runtimes spreading coroutines over several \
                     threads (M:N, e.g. Go) hand the blocked thread's other coroutines to another thread (docs/sources.md).
                     """,
                               """
                               一个协程在阻塞读中等待 \(delay) 时，同一线程上的其他协程有 \(humanTime(mb)) 没有得到运行；把读改成非阻塞后，它们最长只等了 \(humanTime(mn))。这个停顿之比（\(Format.times(ratio))）\
                               随所选的等待时间 \(delay) 而变（两者都有效时用来判定的运行次数，这里不能用）。笔记应当补充：把协程分到多个线程上运行的运行时（M:N 调度，例如 Go）会把其余协程交给别的线程（出处见 docs/sources.md）。
                               """),
                 doesNotHold: lang.t("the other coroutines' stall is about the same with a blocking read.", "用阻塞读时，其他协程的停顿并没有明显变长。"),
                 otherwise: lang.t("the stall ratio \(Format.times(ratio)) is between 2× and 10× or the CIs overlap.",
                                   "停顿之比 \(Format.times(ratio)) 介于 2 倍和 10 倍之间，或者置信区间重叠。"))
        if let tb, let tn {
            // The turns decide (the stall ratio follows the chosen T).
            let v: Claims.Verdict = tb == 0 && tn >= 1 ? .holds : (tb >= tn * 0.5 ? .doesNotHold : .inconclusive)
            c.decide(v,
                     holds: lang.t("""
                         while coroutine 0 waited \(delay) in a blocking read, the other coroutines got no turn (\(turnsText(tn)) turns with the non-blocking \
                         read); their longest stall was \(humanTime(mb)) against \(humanTime(mn)).
                         """,
                                   "0 号协程在阻塞读中等待 \(delay) 期间，其他协程一次也没有得到运行（用非阻塞读时得到 \(turnsText(tn)) 次）；它们最长的停顿是 \(humanTime(mb))，非阻塞时是 \(humanTime(mn))。"),
                     doesNotHold: lang.t("""
                         the other coroutines kept getting turns during the blocking read (\(turnsText(tb)) against \(turnsText(tn)) with the non-blocking \
                         read).
                         """,
                                         "阻塞读期间其他协程仍在得到运行（\(turnsText(tb)) 次，非阻塞读时 \(turnsText(tn)) 次）。"),
                     otherwise: lang.t("""
                         the other coroutines got \(turnsText(tb)) turns during the blocking read against \(turnsText(tn)) with the non-blocking read: fewer, \
                         but not none.
                         """,
                                       "阻塞读期间其他协程得到 \(turnsText(tb)) 次运行，非阻塞读时 \(turnsText(tn)) 次：少了，但不是 0。"))
        }
        c.deciding = tb != nil && tn != nil ? ["turns_during_blocking_read", "turns_during_nonblocking_read"] : ["blocking_over_nonblocking_stall"]
        if c.verdict == .holds, let tb, let tn { c.advice = Self.advice(delay: delay, turns: (tb, tn), ratio: ratio, lang) }
        if c.verdict == .holds {
            c.corrected = "在协程调用阻塞 I/O 操作的时候，操作系统会让线程进入阻塞状态；如果协程都绑定在这一个线程上，当前的协程和其它绑定在该线程之上的协程都会陷入阻塞而得不到调度。把协程分到多个线程上运行的运行时（M:N 调度，例如 Go）会把其余协程交给别的线程继续运行。"
        }
        return [c]
    }

    /// C4's advice when it holds: the turns the others got, the stall ratio said to follow the chosen wait,
    /// the M:N caveat.
    static func advice(delay: String, turns: (Double, Double), ratio: Double, _ lang: Language) -> String {
        let (tb, tn) = turns
        let turnsText = { (v: Double) in ManyFormat.count(Int(v.rounded())) }
        let none = tb == 0
        return lang.t("""
                While one coroutine waited \(delay) in a blocking read, the other coroutines on its thread got \
                \(none ? "no turn at all" : "only \(turnsText(tb)) turns") (with a non-blocking read and a yield: \(turnsText(tn))): the whole thread blocks \
                in the kernel, as the note says for coroutines bound to one thread; the stall ratio (\(Format.times(ratio))) grows with the chosen wait of \
                \(delay) and is not the evidence. The note should add that runtimes spreading coroutines over several threads (M:N, e.g. Go, Tokio's \
                `block_in_place`) hand the blocked thread's other coroutines to another thread, so there they keep running (docs/sources.md).
                """,
                              """
                              一个协程在阻塞读中等待 \(delay) 时，同一线程上的其他协程\(none ? "一次也没有得到运行" : "只得到了 \(turnsText(tb)) 次运行")（改成非阻塞读再让出时是 \(turnsText(tn)) 次）：整个线程在内核中阻塞，\
                              对绑在一个线程上的协程，正如笔记所说；停顿之比（\(Format.times(ratio))）随所选的等待时间 \(delay) 而变，不能作为依据。笔记应当补充：把协程分到多个线程上运行的运行时（M:N 调度，例如 Go、\
                              Tokio 的 `block_in_place`）会把被阻塞线程上的其他协程交给别的线程，那里它们仍能运行（出处见 docs/sources.md）。
                              """)
    }
}
