import Foundation

/// The syscall harness's section (the privilege switch alone) and claim C7.
extension SyscallHarness {
    /// What each mechanism does, for people.
    static func what(_ mechanism: String, _ lang: Language) -> String {
        switch mechanism {
        case "getppid": return lang.t("enters the kernel and returns every time (`syscall(SYS_getppid)`)", "每次都进入内核再返回（`syscall(SYS_getppid)`）")
        case "clock_gettime": return lang.t("read through the vDSO: stays in user mode", "通过 vDSO 读取：始终在用户态")
        default: return ""
        }
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let rows = run.records(harness: id)
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(lang == .en
            ? ["call", "per call", "95 % CI", "kernel switches / call", "what it does"]
            : ["调用", "每次耗时", "95 % 置信区间", "每次调用的上下文切换次数（内核统计）", "做了什么"])
        for r in rows {
            t.add([r.mechanism, Format.median(r), Format.ci(r),
                   Format.perOp(r.switchesPerOp), Self.what(r.mechanism, lang)])
        }
        return Claims.section(lang.t("## System call: the privilege switch alone (claim C7)", "## 系统调用：单独的特权级切换（说法 C7）"), [t.text], run, lang)
    }

    static let claimText = Claims.Text("C7", title: ("A privilege switch (user ↔ kernel) has a cost of its own.", "特权级切换（用户态 ↔ 内核态）本身就有代价。"), quote: "特权级切换",
                                         rule: ("""
                                             syscall harness, same CPU: holds when getppid through syscall(2) (one kernel entry and exit per call) is above \
                                             the vDSO clock_gettime (no kernel entry) with disjoint 95 % CIs; does not hold when it is not above; inconclusive \
                                             when rows are invalid; not measured when missing.
                                             """,
                         """
                         `syscall` 测试，同一处理器：用 `syscall(2)` 调 getppid（每次进出内核一次）与经 vDSO 的 clock_gettime（不进内核）比较，前者高于后者且两者的 95 % 置信区间不重叠，则成立；不高于则不成立；数据行无效则无法判定；\
                         缺数据则为未测量。
                         """))

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang, facts: [Claims.mitigationFact(run.environment, lang), Claims.virtFact(run.environment, lang)])
        let s = run.row(id, "getppid", "per_call")
        let v = run.row(id, "clock_gettime", "per_call")
        c.evidence = [s, v].compactMap { $0 }
        guard let s, let v else { return [c] }
        if let w = Claims.invalidWhy([s, v], lang) { c.undecided(w); return [c] }
        let (ms, mv) = (Claims.med(s), Claims.med(v))
        c.values = [.init("getppid_over_clock_gettime", ms / mv, unit: "ratio"), .init("kernel_round_trip", ms - mv, unit: "ns")]
        let diff = ms >= mv
            ? lang.t("the kernel round trip adds \(humanTime(ms - mv)) per call", "进出一次内核每次多花 \(humanTime(ms - mv))")
            : lang.t("the system call measured \(humanTime(mv - ms)) cheaper per call", "系统调用反而每次少花 \(humanTime(mv - ms))")
        c.measured.append(lang.t("getppid ÷ clock_gettime (vDSO) = \(Format.times(ms / mv)); ",
                                 "getppid ÷ clock_gettime（vDSO）= \(Format.times(ms / mv))；") + diff)
        c.verdict = Claims.ratioVerdict(s, over: v, atLeast: 1, otherwise: .doesNotHold)
        c.why = c.verdict == .holds
            ? lang.t("""
                a system call that does almost nothing costs \(humanTime(ms)), \(Format.sig3(ms / mv)) times a call that stays in user mode (\(humanTime(mv))).
                """,
                     "一个几乎什么都不做的系统调用要 \(humanTime(ms))，是不进内核的调用（\(humanTime(mv))）的 \(Format.sig3(ms / mv)) 倍。")
            : lang.t("the system call is not above the user-mode call beyond the CIs.", "在置信区间之外，系统调用并不比用户态调用贵。")
        c.deciding = ["kernel_round_trip"]
        if c.verdict == .holds {
            c.advice = lang.t("""
                One trip from user mode into the kernel and back (a `getppid` that does almost nothing) costs \(humanTime(ms)) here; a `clock_gettime` that \
                stays in user mode (vDSO) costs \(humanTime(mv)), so entering and leaving the kernel adds \(humanTime(ms - mv)) per call (`kernel_round_trip`, \
                the deciding number): the privilege switch has a price of its own, without any switch of task.
                """,
                              """
                              在这台机器上，从用户态进入内核态再返回一次（一个几乎什么都不做的 `getppid`）要 \(humanTime(ms))；经 vDSO、不进内核的 `clock_gettime` 要 \(humanTime(mv))，\
                              所以进出内核每次多花 \(humanTime(ms - mv))（`kernel_round_trip`，即判定依据）：特权级切换本身就有代价，哪怕不切换任务。
                              """)
        }
        return [c]
    }
}
