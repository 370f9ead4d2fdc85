import Foundation

/// The pollution harness's section (does a process switch flush the TLB?) and claim C2.
extension PollutionHarness {
    static func answerText(_ a: PollutionVerdict.Answer, _ lang: Language) -> String {
        switch a {
        case .yes: return lang.t("yes", "是")
        case .no: return lang.t("no", "否")
        case .partly: return lang.t("partly", "部分")
        case .inconclusive: return lang.t("inconclusive", "无法判定")
        }
    }

    /// How the answer was reached, from the points it was decided on.
    static func decisionText(_ points: [PollutionVerdict.Point], _ lang: Language) -> String {
        let usable = points.filter(\.flushVisible)
        guard !points.isEmpty else {
            return lang.t("needs the process, thread, none and flush cases with an idle B",
                          "需要 B 空闲时的 process、thread、none、flush 四种情况")
        }
        guard !usable.isEmpty else {
            return lang.t("the mprotect flush reference did not rise above the no-switch case at any W",
                          "无论 W 取多少，mprotect 清空的参照都没有高出不切换的情况")
        }
        let above = usable.filter { $0.process.ci95Low > $0.thread.ci95High }.count
        let sig = usable.filter(\.significant).count
        let share = KneeDetector.median(usable.map { $0.reference > 0 ? $0.excess / $0.reference : 0 }) * 100
        // The median share with the same digits as notes.md's `median_share_of_flush` (one number per idea).
        let shareText = Format.sig3(share)
        return lang.t(String(format: """
            of %d working sets (W) where a flush is visible, process above thread beyond the 95 %% CIs at %d, and also by ≥ 25 %% of a full flush \
            at %d; median excess %@ %% of a full flush
            """, usable.count, above, sig, shareText),
                      String(format: """
                          在看得出清空效果的 %d 个工作集（W）中，进程高于线程且超出 95 %% 置信区间的有 %d 个，其\
                          中多出的部分达到一次完整清空的 25 %% 以上的有 %d 个；多出部分的中位数是一次完整清空的\
                           %@ %%
                          """, usable.count, above, sig, shareText))
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let rows = run.records(harness: id).filter { $0.metric == "rewalk_penalty_per_page" }
        guard !rows.isEmpty else { return nil }
        let pcid = run.environment.pcid ? lang.t("on", "开") : lang.t("off", "关")
        let table = Self.penaltyTable(run, rows, lang)
        let answer = PollutionVerdict.answer(run) ?? .inconclusive
        let points = PollutionVerdict.points(run.records)
        let best = points.filter(\.flushVisible).max { $0.reference < $1.reference }
        let machine = EnvironmentText.machine(run.environment, lang: lang)
        let student = Self.studentSentence(answer, best, machine: machine, lang)
        let intro = Self.introText(lang)
        let head = lang.t("**A process switch flushed the TLB: \(Self.answerText(answer, lang))** (PCID \(pcid)). ",
                          "**进程切换清空了快表吗：\(Self.answerText(answer, lang))**（PCID \(pcid)）。")
            + Self.decisionText(points, lang) + lang.t(".", "。")
        let heading = lang.t("## Does a process switch flush the TLB? (claim C2)", "## 进程切换会清空快表吗？（说法 C2）")
        return Claims.section(heading, [intro, table, head, "> " + student], run, lang)
    }

    /// The re-walk penalty per page at each W: no switch, thread and process with B idle and busy, the
    /// mprotect flush reference and the warm walk (beside W: the TLB level that holds it).
    static func penaltyTable(_ run: RunResult, _ rows: [Record], _ lang: Language) -> String {
        func get(_ m: String, _ w: Int, busy: Bool) -> Record? {
            rows.first { $0.mechanism == m && $0.workingSetPages == w && ($0.footprintBytes > 0) == busy }
        }
        // Where each W sits against the reach the tlb sweep found in this run, when it ran.
        let tlb = run.records(harness: "tlb")
        let reach1 = tlb.first { $0.mechanism == "4k" && $0.metric == TLBAnalysis.reachPages && $0.parameter(.tlbLevel) == 1 }?.stats?.median
        let reach2 = tlb.first { $0.mechanism == "4k" && $0.metric == TLBAnalysis.reachPages && $0.parameter(.tlbLevel) == 2 }?.stats?.median
        func holder(_ w: Int) -> String {
            guard let r1 = reach1 else { return "" }
            if Double(w) <= r1 { return " (L1 dTLB)" }
            guard let r2 = reach2 else { return "" }
            return Double(w) <= r2 ? " (STLB)" : lang.t(" (beyond)", "（超出）")
        }
        var t = MarkdownTable(lang == .en
            ? ["W pages", "no switch", "thread, B idle", "process, B idle", "process − thread", "real flush (mprotect)", "thread, B busy",
               "process, B busy", "warm walk"]
            : ["W（页）", "不切换", "线程，B 空闲", "进程，B 空闲", "进程 − 线程", "真正清空（mprotect）",
               "线程，B 忙", "进程，B 忙", "热遍历"])
        for w in Set(rows.compactMap(\.workingSetPages)).sorted() {
            let p = get("process", w, busy: false), th = get("thread", w, busy: false)
            let diff = p?.stats.flatMap { a in th?.stats.map { String(format: "%+.2f", a.median - $0.median) } } ?? "–"
            let warm = get("none", w, busy: false).flatMap(PollutionVerdict.warmWalk).map { String(format: "%.2f ", $0) + lang.t("ns/page", "ns/页") } ?? "–"
            t.add([String(w) + holder(w), Format.bracket(get("none", w, busy: false)?.stats), Format.bracket(th?.stats), Format.bracket(p?.stats), diff,
                   Format.bracket(get("flush", w, busy: false)?.stats), Format.bracket(get("thread", w, busy: true)?.stats),
                   Format.bracket(get("process", w, busy: true)?.stats), warm])
        }
        return t.text
    }

    /// The sentence for the student: what this machine showed, in the answer's words, with the
    /// numbers at the W where the flush reference is largest.
    static func studentSentence(_ answer: PollutionVerdict.Answer, _ best: PollutionVerdict.Point?, machine: String,
                                _ lang: Language) -> String {
        var student: String
        if let b = best {
            let share = b.reference > 0 ? b.excess / b.reference * 100 : 0
            let numbers = lang.t(String(format: """
                re-walking %d pages after a switch to another process and back cost %.1f ns per page more than a warm walk, against %.1f ns after a \
                thread switch and %.1f ns after a real flush of those pages (%.0f %% of a flush)
                """,
                                        b.w, b.process.median, b.thread.median, b.flush.median, share),
                                 String(format: """
                                     切到另一个进程再切回来之后，重新遍历 %d 页每页比热遍历多花 %.1f ns；线程切换之\
                                     后是 %.1f ns，真正清空这些页的转换之后是 %.1f ns（相当于一次清空的 %.0f %%）
                                     """,
                                        b.w, b.process.median, b.thread.median, b.flush.median, share))
            switch answer {
            case .yes: student = lang.t("""
                On this machine (\(machine)) a process switch flushed the TLB: \(numbers). Without PCID/ASID tags the kernel must drop the old \
                address space's translations at every CR3 change, as the note says (进程切换需要清空快表).
                """, """
                在这台机器上（\(machine)），进程切换清空了快表：\(numbers)。没有 PCID/ASID 标签时，每次换 CR3 内核都\
                必须丢掉旧地址空间的转换，正如笔记所说（进程切换需要清空快表）。
                """)
            case .partly: student = lang.t("""
                On this machine (\(machine)) a process switch cost part of a TLB flush: \(numbers). Some of the old translations were lost on the \
                way through the other address space, but not all.
                """, """
                在这台机器上（\(machine)），进程切换相当于清空了一部分快表：\(numbers)。经过另一个地址空间走一\
                趟，旧的转换丢了一些，但没有全丢。
                """)
            case .no: student = lang.t("""
                On this machine (\(machine)) a process switch did not flush the TLB: \(numbers). Linux tags TLB entries with a PCID per address \
                space, so switching CR3 to another process keeps the old translations, and the note's 进程切换需要清空快表 holds only \
                without PCID (x86) or ASID (arm64).
                """, """
                在这台机器上（\(machine)），进程切换并没有清空快表：\(numbers)。Linux 给每个地址空间的 快表表项打\
                上 PCID 标签，CR3 换成另一个进程的页表时旧的转换仍然留着；笔记里“进程切换需要清空快表”只\
                在没有 PCID（x86）或 ASID（arm64）时才成立。
                """)
            case .inconclusive: student = lang.t("""
                On this machine (\(machine)) the measurement could not decide whether a process switch flushes the TLB: \(numbers).
                """, """
                在这台机器上（\(machine)），测量无法判定进程切换是否清空了快表：\(numbers)。
                """)
            }
        } else {
            student = lang.t("""
                On this machine (\(machine)) the measurement could not decide: even a real flush of the walked pages did not cost measurably more \
                than no switch.
                """,
                             """
                             在这台机器上（\(machine)），测量无法判定：连真正清空这些页的转换，也没有比不切换时\
                             明显更慢。
                             """)
        }
        return student
    }

    /// How the harness measures, above the table.
    static func introText(_ lang: Language) -> String {
        lang.t("""
        Task A walks W pages (warm), hands the CPU to task B on the same CPU, B walks its own W pages (*busy*)
        or none (*idle*) and hands back; A's first re-walk is timed against its next, warm one. The table gives
        that re-walk penalty in ns per page (median [95 % CI]), all cases interleaved rep by rep in one run
        (beside W: the TLB level that holds W pages, from the tlb sweep when it ran too).
        *No switch* is the same kernel entry with nothing else to run; *real flush* is mprotect() of A's
        pages, which must drop their translations. Reps whose kernel switch count was off were retaken.
        """, """
        任务 A 先把 W 个页走一遍（热了），再把 CPU 交给同一处理器上的任务 B；B 走自己的 W 个页（“忙”）或\
        什么都不走（“空闲”），
        然后交回来。A 重新遍历的第一遍与紧接着的第二遍（热的）相比，多出来的就是表中的“重新遍历的代价\
        ”，单位是每页 ns
        （中位数 [95 % 置信区间]）。所有情况在一次运行里逐轮交错进行（W 旁边注明了装得下 W 页的是哪一级快\
        表，来自同时运行的 tlb 扫描）。
        “不切换”是同样进一次内核、但没有别的任务可运行；“真正清空”是对 A 的页做 mprotect()，内核必须丢\
        掉这些页的转换。
        上下文切换次数（内核统计）不对的那几轮都重测过。
        """)
    }

    static let claimText = Claims.Text("C2", title: ("A process switch must flush the TLB.", "进程切换必须清空快表（TLB）。"),
                                       quote: "进程切换需要清空快表",
                                         rule: ("""
                                             pollution harness, idle B (footprint 0): the re-walk penalty per page of task A after a switch to \
                                             another process, to a thread, no switch (none) and an mprotect() flush reference. The harness's answer \
                                             decides (over the working sets where the flush reference is visible, a majority must show process \
                                             above thread beyond the 95 % CIs by ≥ 25 % of a flush; then yes if the median share of a full flush \
                                             is ≥ 60 %, else partly; otherwise no): yes → holds, no → does not hold here, partly or \
                                             inconclusive → inconclusive. Without the flush and none rows, at the smallest working set with both \
                                             (inside the L1 dTLB): holds when process is above thread with disjoint CIs; does not hold when the CIs \
                                             overlap and the ratio is below 1.10 or thread is above process beyond the CIs; otherwise inconclusive.
                                             """,
                         """
                         `pollution` 测试，任务 B 空闲（不访问自己的页）：比较任务 A 在切到另一个进程、切到一个线\
                         程、不切换之后重新遍历每页的代价，并以 mprotect() 清空作参照。由测试给出的答案决定（在\
                         看得出清空效果的工作集里，多数要满足进程高于线程、超出 95 % 置信区间、且多出的部分达\
                         到一次清空的 25 %；再看多出部分的中位数是否达到完整清空的 60 %：达到为“是”，否则为\
                         “部分”；不满足多数则为“否”）：是 → 成立，否 → 在这台机器上不成立，部分或无法\
                         判定 → 无法判定。如果没有清空和不切换的行，就取两者都有的最小工作集（在 L1 dTLB 之内\
                         ）：进程高于线程且区间不重叠则成立；区间重叠且比值低于 1.10，或线程超出区间高于进程\
                         ，则不成立；其余无法判定。
                         """))

    /// What the note should say about C2 here, from the share of a flush that decided (the median
    /// over the working sets where a flush is visible, named) and PCID.
    static func advice(_ c: Claims.Claim, _ e: Environment, _ lang: Language, where points: String?) -> String? {
        let decided = c.values.first { $0.name == "median_share_of_flush" } ?? c.values.first { $0.name == "share_of_flush" }
        let share = decided.map { Format.value($0.value, unit: "percent", lang: lang) }
        let at = points ?? ""
        switch c.verdict {
        case .holds:
            return lang.t("""
                Here a process switch cost a task that walks its own pages before and after the switch (task A) about as much as a full TLB \
                flush\(share.map { " (\($0) of one\(at.isEmpty ? "" : ", " + at))" } ?? ""): the note's \"进程切换需要清空快表\" \
                describes this machine\(e.pcid ? "" : ", which runs without PCID").
                """,
                          """
                          在这台机器上，一个在切换前后反复访问自己那些页的任务（任务 A）为进程切换付出的代价\
                          接近一次完整的快表清空\(share.map { "（\(at.isEmpty ? "" : at + "，")相当于 \($0)）" } ?? "")：笔记“\
                          进程切换需要清空快表”符合这台机器\(e.pcid ? "" : "（它没有 PCID）")。
                          """)
        case .doesNotHold:
            return lang.t("""
                Here a process switch cost a task that walks its own pages before and after the switch (task A) \
                \(share.map { "only \($0) of" } ?? "far less than") a real TLB flush\(at.isEmpty ? "" : " (" + at + ")")\(e.pcid ? """
                    ; PCID is on, and Linux then keeps the TLB entries of the last few address spaces on each CPU instead of flushing them \
                    (docs/sources.md), which fits this number though no run with PCID off was compared
                    """ : ""), so the note should say that a process switch changes the page table, and that on a CPU that tags TLB entries by \
                address space (PCID/ASID) the TLB is usually not flushed.
                """,
                          """
                          在这台机器上，一个在切换前后反复访问自己那些页的任务（任务 A）为进程切换付出的代价\(share.map { "只有一次真正清空快表的 \($0)" } ?? "远小于一次真正清空快表")\
                          \(at.isEmpty ? "" : "（" + at + "）")\(e.pcid ? """
                              ；这台机器开着 PCID，Linux 会在每个处理器上保留最近用过的几个地址空间的快表表项而不清空（出处见 docs/sources.md），与这个数相符，\
                              但没有关掉 PCID 的对照
                              """ : "")；笔记应当说：进程切换要切换页表，但在能按地址空间区分快表表项（PCID/ASID）的处理器上，通常不清空快表。
                          """)
        default:
            return nil
        }
    }

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang, facts: [Claims.pcidFact(run.environment, lang), Claims.virtFact(run.environment, lang)])
        let all = run.records(harness: id)
        guard !all.isEmpty else { return [c] }
        let rows = all.filter { $0.stats != nil && $0.footprintBytes == 0 && $0.metric == "rewalk_penalty_per_page" }
        let order = ["process", "thread", "none", "flush"]
        c.evidence = rows.sorted {
            (($0.workingSetPages ?? 0), order.firstIndex(of: $0.mechanism) ?? 9) < (($1.workingSetPages ?? 0), order.firstIndex(of: $1.mechanism) ?? 9)
        }
        let procs = rows.filter { $0.mechanism == "process" }, threads = rows.filter { $0.mechanism == "thread" }
        let pair = procs.compactMap { p in threads.first { $0.workingSetPages == p.workingSetPages }.map { (p, $0) } }
            .min { ($0.0.workingSetPages ?? 0) < ($1.0.workingSetPages ?? 0) }   // the smallest W: L1 dTLB
        var flushShare = ""
        if let (p, t) = pair, Claims.med(t) > 0 {
            let (mp, mt) = (Claims.med(p), Claims.med(t))
            let w = p.workingSetPages ?? 0
            c.values.append(.init("process_over_thread_penalty", mp / mt, unit: "ratio"))
            c.measured.append(lang.t("""
                rewalk_penalty_per_page at \(w) pages: process \(Format.median(p)) vs thread \(Format.median(t)), ratio \(Format.times(mp / mt))
                """,
                                     """
                                     \(w) 页时每页重新遍历的代价：进程 \(Format.median(p))，线程 \(Format.median(t))，比值 \
                                     \(Format.times(mp / mt))
                                     """))
            if let f = rows.first(where: { $0.mechanism == "flush" && $0.workingSetPages == p.workingSetPages }), Claims.med(f) > 0 {
                let share = (mp - mt) / Claims.med(f) * 100
                c.values.append(.init("share_of_flush", share, unit: "percent"))
                flushShare = mp >= mt
                    ? lang.t(String(format: """
                        at %d pages the process switch adds %@ per page over the thread switch, %.0f %% of what a real flush of those pages costs \
                        (%@)
                        """, w, humanTime(mp - mt), share, Format.median(f)),
                             String(format: "在 %d 页时，进程切换比线程切换每页多花 %@，是真正清空这些页所花（%@）的 %.0f %%", w,
                                    humanTime(mp - mt), Format.median(f), share))
                    : lang.t(String(format: """
                        at %d pages the re-walk after a process switch cost %@ per page less than after a thread switch (a real flush of those \
                        pages costs %@)
                        """, w, humanTime(mt - mp), Format.median(f)),
                             String(format: """
                                 在 %d 页时，进程切换之后重新遍历每页反而比线程切换之后少花 %@（真正清空这些页要\
                                 花 %@）
                                 """, w, humanTime(mt - mp), Format.median(f)))
                c.measured.append(flushShare)
            }
        }
        if let answer = PollutionVerdict.answer(run) {
            Self.decide(&c, answer, all, flushShare: flushShare, run.environment, lang)
            return [c]
        }
        guard let (p, t) = pair, Claims.med(t) > 0 else {
            c.undecided(lang.t("pollution rows present but no process/thread pair with the same working set",
                               "有 `pollution` 的数据，但没有同一工作集下的进程/线程对"))
            return [c]
        }
        if let w = Claims.invalidWhy([p, t], lang) { c.undecided(w); return [c] }
        let ratio = Claims.med(p) / Claims.med(t)
        // Overlapping CIs with a ratio under 1.10: the same cost, so no flush.
        let beyond = Claims.ratioVerdict(p, over: t, atLeast: 1)
        let same = beyond == .inconclusive && ratio < 1.10
        let noFlush = same
            ? lang.t("""
                the re-walk after a process switch costs the same as after a thread switch (CIs overlap, ratio \(Format.times(ratio))): the TLB was \
                not flushed.
                """, """
                进程切换之后重新遍历的代价和线程切换之后一样（置信区间重叠，比值 \(Format.times(ratio))）：快表\
                没有被清空。
                """)
            : lang.t("the re-walk after a thread switch costs more than after a process switch: no sign of a flush.",
                     "线程切换之后重新遍历反而比进程切换之后更贵：看不出清空的迹象。")
        c.decide(same ? .doesNotHold : beyond,
                 holds: lang.t("the re-walk after a process switch costs more than after a thread switch beyond both CIs: translations were lost.",
                               "进程切换之后重新遍历比线程切换之后更贵，而且超出了两边的置信区间：转换丢了。"),
                 doesNotHold: noFlush,
                 otherwise: lang.t("process penalty is \(Format.times(ratio)) the thread one but the CIs overlap.",
                                   "进程的代价是线程的 \(Format.sig3(ratio)) 倍，但置信区间重叠。"))
        return [c]
    }

    /// C2 from the harness's answer: the verdict, the median share of a flush over the working sets
    /// where a flush is visible (the deciding number, named with its points), and the advice.
    static func decide(_ c: inout Claims.Claim, _ answer: PollutionVerdict.Answer, _ all: [Record], flushShare: String, _ e: Environment, _ lang: Language) {
        let points = PollutionVerdict.points(all)
        if let v = all.first(where: { $0.mechanism == "verdict" }) { c.evidence.append(v) }
        c.measured.append(lang.t("harness answer: \(Self.answerText(answer, lang)) — ",
                                 "测试给出的答案：\(Self.answerText(answer, lang))。") + Self.decisionText(points, lang))
        switch answer {
        case .yes:
            c.verdict = .holds
            c.why = lang.t("""
                the pollution harness's answer is yes: after a process switch A's re-walk costs about as much as after a full flush, beyond the \
                thread switch's CIs.
                """,
                           """
                           `pollution` 测试的答案是“是”：进程切换之后，A 重新遍历的代价和完整清空之后差不多，\
                           并且超出了线程切换的置信区间。
                           """)
        case .no:
            c.verdict = .doesNotHold
            c.why = lang.t("the pollution harness's answer is no: " + (flushShare.isEmpty ? """
                A's re-walk after a process switch is not above the thread switch's by a quarter of a real flush
                """ : flushShare) + """
                , so most of A's translations survived the switch: the TLB was not flushed as a whole (the share at the smallest working set; the \
                verdict uses the median over the working sets, below).
                """,
                           "`pollution` 测试的答案是“否”：" + (flushShare.isEmpty ? """
                           进程切换之后 A 重新遍历的代价，比线程切换之后高出的不到一次真正清空的四分之一
                           """ : flushShare) + """
                           。可见 A 的大部分转换在切换后还在：快表没有被整个清空（这是最小工作集上的比例；结\
                           论用的是各工作集的中位数，见下）。
                           """)
        case .partly:
            c.undecided(lang.t("""
                the pollution harness's answer is partly: a process switch cost part of a flush, not a full one
                """ + (flushShare.isEmpty ? "." : " (" + flushShare + ")."),
                               """
                               `pollution` 测试的答案是“部分”：进程切换相当于清空了一部分，不是全部
                               """ + (flushShare.isEmpty ? "。" : "（" + flushShare + "）。")))
        case .inconclusive:
            c.undecided(lang.t("the pollution harness's answer is inconclusive.", "`pollution` 测试无法给出答案。"))
        }
        // The harness decided on the median share over the working sets where a flush is visible:
        // that is the deciding number, named with its points (not the smallest point's share).
        let usable = points.filter(\.flushVisible)
        var named: String? = nil
        if !usable.isEmpty {
            let share = KneeDetector.median(usable.map { $0.reference > 0 ? $0.excess / $0.reference : 0 }) * 100
            c.values.append(.init("median_share_of_flush", share, unit: "percent"))
            let ws = usable.map(\.w).sorted()
            let list = ws.count <= 4 ? ws.map(String.init).joined(separator: lang.t(", ", "、")) : "\(ws.first!)–\(ws.last!)"
            named = lang.t("the median over the \(ws.count) working sets where a flush is visible (\(list) pages)",
                           "取看得出清空效果的 \(ws.count) 个工作集（\(list) 页）的中位数")
        }
        c.deciding = c.values.contains { $0.name == "median_share_of_flush" } ? ["median_share_of_flush"]
            : (c.values.contains { $0.name == "share_of_flush" } ? ["share_of_flush"] : [])
        c.advice = Self.advice(c, e, lang, where: named)
        if c.verdict == .doesNotHold {
            c.corrected = """
                进程切换需要切换页表；在能按地址空间区分快表表项的处理器上（x86 的 PCID、其他架构的 ASID），\
                切换时通常不必清空快表，切到最近没在这个处理器上用过的地址空间、或页表在此期间改过时才清\
                空。
                """
        }
    }
}
