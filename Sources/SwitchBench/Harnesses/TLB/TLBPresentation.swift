import Foundation

/// The tlb harness's section (reach and miss cost of each TLB level, 4 KiB vs 2 MiB), claim C5,
/// the TLB curve plot and its compare rule.
extension TLBHarness {
    /// A knee's name: the first two are TLB levels; past them the page walks themselves slow down.
    static func levelName(_ i: Int, _ lang: Language) -> String {
        switch i {
        case 0: return lang.t("L1 dTLB", "L1 dTLB（一级快表）")
        case 1: return lang.t("L2 TLB (STLB)", "L2 TLB（STLB，二级快表）")
        default: return lang.t("page walks slow further (page tables leave the caches)", "页表遍历进一步变慢（页表被挤出缓存）")
        }
    }

    /// The 2 MiB outcome in words, with the comparison of miss costs past the second level following the numbers.
    static func hugeSentence(_ run: RunResult, _ lang: Language) -> String? {
        guard let outcome = TLBAnalysis.HugeOutcome.of(run) else { return nil }
        var s: String
        switch outcome {
        case .notGranted:
            s = lang.t("huge pages were not granted: the 2m curve is a 4 KiB curve", "内核没有分配大页：2m 曲线其实还是 4 KiB 页的曲线")
        case .noReachGain:
            s = lang.t("""
                huge pages granted, but no reach gain: the first-level knee stays where the 4 KiB one is (likely host-side 4 KiB backing: the TLB \
                holds 4 KiB translations whatever the guest maps)
                """,
                       """
                       内核分配了大页，但快表覆盖范围没有变大：一级拐点和 4 KiB 页时在同一处（很可能宿主机用 \
                       4 KiB 页支撑这块内存，客户机映射成什么，TLB 里存的都是 4 KiB 的转换）
                       """)
        case .reachGain(let f):
            s = f.isInfinite
                ? lang.t("huge pages granted and they extend the TLB reach beyond the sweep (no first-level knee up to \(maxPages) pages)",
                         "内核分配了大页，快表覆盖范围超出了整个扫描区间（直到 \(maxPages) 页都没有一级拐点）")
                : lang.t("huge pages granted and they extend the first-level TLB reach \(Format.times(f))",
                         "内核分配了大页，一级快表的覆盖范围扩大到原来的 \(Format.sig3(f)) 倍")
        case .partialGain(let f):
            s = lang.t("huge pages granted; first-level reach only \(Format.times(f)) the 4 KiB one (partly small-page backed?)",
                       "内核分配了大页，但一级覆盖范围只有 4 KiB 页时的 \(Format.sig3(f)) 倍（也许部分仍由小页支撑）")
        case .unknown:
            s = lang.t("no verdict: the 4 KiB curve shows no first-level knee to compare with", "无法判断：4 KiB 曲线上没有可比的一级拐点")
        }
        let rows = run.records(harness: "tlb")
        func miss(_ v: String) -> Double? {
            rows.first { $0.mechanism == v && $0.metric == TLBAnalysis.missExtraNs && $0.parameter(.tlbLevel) == 2 }?.stats?.median
        }
        if outcome == .noReachGain, let a = miss("2m"), let b = miss("4k"), b > 0 {
            s += missComparison(twoMiB: a, fourKiB: b, lang)
        }
        return s
    }

    /// The worst point's page faults per access: "never" only for an exact zero.
    static func faultLine(_ pf: Double, _ lang: Language) -> String {
        pf == 0
            ? lang.t(". Page faults per access: 0 at every point (the walks never fault)",
                     "。每次访问的缺页次数：每一点都是 0（遍历不会引起缺页）")
            : lang.t("""
                . Page faults per access, worst point: \(Format.sig3(pf)) (about one fault per \
                \((1 / pf >= 1000 ? ManyFormat.count(Int((1 / pf).rounded())) : Format.sig3(1 / pf))) accesses: the walks hardly ever fault)
                """,
                     """
                     。每次访问的缺页次数，最坏的一点：\(Format.sig3(pf))（约每 \
                     \((1 / pf >= 1000 ? ManyFormat.count(Int((1 / pf).rounded())) : Format.sig3(1 / pf))) 次访问一次缺页：遍历几乎不\
                     引起缺页）
                     """)
    }

    /// "; past the second level a miss costs 15.8 ns with 2 MiB pages, less than the 21.6 ns with 4 KiB
    /// (a shorter page walk)": the comparative is the 2 MiB number's, chosen from the two numbers (±10 %: about the same).
    static func missComparison(twoMiB a: Double, fourKiB b: Double, _ lang: Language) -> String {
        let (ta, tb) = (humanTime(a), humanTime(b))
        if a < b * 0.9 {
            return lang.t("; past the second level a miss costs \(ta) with 2 MiB pages, less than the \(tb) with 4 KiB pages (a shorter page walk)",
                          "；越过二级之后，用 2 MiB 页每次缺失多花 \(ta)，比 4 KiB 页的 \(tb) 少（页表遍历更短）")
        } else if a > b * 1.1 {
            return lang.t("""
                ; past the second level a miss costs \(ta) with 2 MiB pages, more than the \(tb) with 4 KiB pages (the 2 MiB mapping did not \
                shorten the walk here)
                """,
                          """
                          ；越过二级之后，用 2 MiB 页每次缺失多花 \(ta)，比 4 KiB 页的 \(tb) 还多（在这里 2 MiB 映射没\
                          有让遍历变短）
                          """)
        }
        return lang.t("; past the second level a miss costs \(ta) with 2 MiB pages, about the same as the \(tb) with 4 KiB pages",
                      "；越过二级之后，用 2 MiB 页每次缺失多花 \(ta)，与 4 KiB 页的 \(tb) 差不多")
    }

    public func markdownSection(_ run: RunResult, lang: Language) -> String? {
        let rows = run.records(harness: id)
        guard !rows.isEmpty else { return nil }
        var parts: [String] = [lang.t("## TLB reach and miss cost (claim C5)", "## 快表（TLB）的覆盖范围与缺失代价（说法 C5）"), lang.t("""
        A dependent pointer chase touches one cache line in each of N pages (a random line in each page,
        pages in a random order, so no prefetcher helps). The control chain touches the same number of
        cache lines packed 64 to a page, so `4k − control` is the translation cost without the cache-miss
        cost. A knee in that difference is where a TLB level runs out: the *reach* is the largest working
        set still under a quarter of the step, and the *extra* is the step itself (ns per access).
        Knees past the second are not TLB levels: there the page walks themselves slow down.
        The first level's reach is searched for again and again through the run (a bisection each time),
        because the host crowds this guest in phases and one search meets one phase: the reach is what
        most searches agree on, and the table says how many did.
        """, """
        一条相互依赖的指针链在 N 个页里各访问一个缓存行（每页随机取一行，页的顺序也是随机的，预取器帮\
        不上忙）。
        对照链访问同样多的缓存行，但 64 个挤在一页里，所以 `4k − control` 就是去掉缓存缺失之后、单纯地址转\
        换的代价。
        这个差值出现拐点的地方，就是某一级快表装不下了：“覆盖范围”是增幅还不到四分之一时最大的工作集，
        “额外代价”是这一级台阶的高度（每次访问多出的 ns）。第二个拐点之后的就不是快表的级了，而是页\
        表遍历本身变慢。
        一级快表的覆盖范围在整次运行中反复搜索（每次一轮二分查找），因为宿主机会一阵一阵地挤占这台虚拟机，
        一次搜索只碰上一阵：覆盖范围取多数搜索一致的结果，表里写明有几次一致。
        """)]
        if let r = Self.reachTable(rows, lang) { parts.append(r) }
        if let huge = Self.hugeSentence(run, lang) {
            var line = lang.t("**4 KiB vs 2 MiB:** ", "**4 KiB 页与 2 MiB 页：**") + huge + lang.t(".", "。")
            switch HugeGrant.of(run) {
            case .granted?: line += lang.t(" (AnonHugePages covered the whole region.)", "（AnonHugePages 覆盖了整块内存。）")
            case .partial?: line += lang.t(" (Huge pages NOT fully granted.)", "（大页没有全部分配到。）")
            case .unverified?: line += lang.t(" (Huge pages not verified: smaps unreadable.)", "（无法确认大页：读不到 smaps。）")
            case nil: break
            }
            parts.append(line)
        }
        parts.append(Self.sweepTable(rows, lang))
        parts.append(Self.counterLine(rows, lang))
        switch NUMABinding.of(run) {
        case .bound(let n)?: parts.append(lang.t("NUMA: memory bound to node \(n) (libnuma).", "NUMA：内存绑定在节点 \(n)（libnuma）。"))
        case .unavailable(let n)?: parts.append(lang.t("NUMA: --node \(n) asked for, but this machine cannot bind memory to a node; memory is local.",
                                                      """
                                                      NUMA：要求了 `--node \(n)`，但这台机器无法把内存绑定到节点上，用的是\
                                                      本地内存。
                                                      """))
        case nil: break
        }
        return Claims.section(parts[0], Array(parts.dropFirst()), run, lang)
    }


    /// The reach and extra cost per TLB level and page size, or why there is none.
    static func reachTable(_ rows: [Record], _ lang: Language) -> String? {
        func fact(_ variant: String, _ metric: String, level: Int) -> Double? {
            rows.first { $0.mechanism == variant && $0.metric == metric && $0.parameter(.tlbLevel) == level }?.stats?.median
        }
        var reach = MarkdownTable(lang == .en
            ? ["TLB level", "4 KiB pages: reach", "extra per access beyond", "2 MiB pages: reach", "extra per access beyond"]
            : ["级别", "4 KiB 页：覆盖范围", "超出后每次访问多花", "2 MiB 页：覆盖范围", "超出后每次访问多花"])
        var level = 1
        while fact("4k", TLBAnalysis.reachPages, level: level) != nil || fact("2m", TLBAnalysis.reachPages, level: level) != nil {
            func cell(_ v: String) -> (String, String) {
                guard let p = fact(v, TLBAnalysis.reachPages, level: level) else { return ("–", "–") }
                var text = "\(Format.value(p, unit: "pages", lang: lang)) (\(Format.bytes(p * 4096)))"
                // A reach from repeated searches says how many agreed, and when they did not.
                if let row = rows.first(where: { $0.mechanism == v && $0.metric == TLBAnalysis.reachPages && $0.parameter(.tlbLevel) == level }),
                   let n = row.factNumber(TLBAnalysis.searchesKey), let a = row.factNumber(TLBAnalysis.agreeingKey) {
                    text += row.valid
                        ? lang.t(", \(Int(a)) of \(Int(n)) searches agree", "，\(Int(n)) 次搜索中 \(Int(a)) 次一致")
                        : lang.t(", searches disagree (\(Int(a)) of \(Int(n)))", "，搜索结果不一致（\(Int(n)) 次中只有 \(Int(a)) 次一致）")
                }
                return (text, humanTime(fact(v, TLBAnalysis.missExtraNs, level: level)))
            }
            let a = cell("4k"), b = cell("2m")
            reach.add([Self.levelName(level - 1, lang), a.0, a.1, b.0, b.1])
            level += 1
        }
        if !reach.rows.isEmpty { return reach.text }
        if rows.contains(where: { $0.metric == TLBAnalysis.reachPages && $0.parameter(.tlbLevel) == 1 }) {
            return lang.t("No knee found in `4k − control` over the sweep.", "在整个扫描区间里，`4k − control` 没有拐点。")
        }
        if !rows.contains(where: { $0.mechanism == "control" }) {
            return lang.t("No reach: the knees are found on the difference to the `control` chain, which did not run (add it to --mechanism).",
                          """
                          没有覆盖范围：拐点要在与 `control` 链的差值上找，而这次没有跑 `control`（用 `--mechanism` 加\
                          上它）。
                          """)
        }
        return nil
    }

    /// The sweep at powers of two (every point is in the CSV).
    static func sweepTable(_ rows: [Record], _ lang: Language) -> String {
        func ns(_ v: String, _ n: Int) -> Double? {
            rows.first { $0.mechanism == v && $0.workingSetPages == n && $0.metric == "ns_per_access" }?.stats?.median
        }
        var sweep = MarkdownTable(lang == .en
            ? ["pages", "4 KiB span", "4k", "control", "4k − control", "2m", "2m − control"]
            : ["页数", "4 KiB 页跨度", "4 KiB 页（`4k`）", "对照（`control`）", "4 KiB 页 − 对照", "2 MiB 大页（`2m`）",
               "2 MiB 大页 − 对照"])
        var n = Self.minPages
        while n <= Self.maxPages {
            let a = ns("4k", n), c = ns("control", n), h = ns("2m", n)
            if a != nil || c != nil || h != nil {
                sweep.add([String(n), Format.bytes(Double(n * 4096)), humanTime(a), humanTime(c),
                           humanTime(a.flatMap { x in c.map { x - $0 } }), humanTime(h), humanTime(h.flatMap { x in c.map { x - $0 } })])
            }
            n *= 2
        }
        return lang.t("ns per access (median), at powers of two:", "每次访问的时间（ns，中位数），取 2 的幂：") + "\n\n" + sweep.text
    }

    /// The counters per access: which are filled, which empty (the CSV's note says why), page faults.
    static func counterLine(_ rows: [Record], _ lang: Language) -> String {
        let empty = Set(rows.filter { $0.stats == nil && $0.unit == "per access" }.map(\.metric)).sorted()
        let filled = Set(rows.filter { $0.unit == "per access" && $0.stats != nil }.map(\.metric)).sorted()
        var counterLine = lang.t("Counters per access: ", "每次访问的计数器：")
            + (filled.isEmpty ? lang.t("none filled", "都没有数据") : filled.map { "`\($0)`" }.joined(separator: ", ") + lang.t(" filled (CSV)",
                                                                                                                           " 有数据（见 CSV）"))
        if !empty.isEmpty {
            counterLine += lang.t("; empty: ",
                                  "；没有数据：") + empty.map { "`\($0)`" }.joined(separator: lang.t(", ",
                                                                                               "、")) + lang.t(" (why: the note column of the CSV)",
                                                                                                              "（原因见 results.csv 的 `note` 列）")
        }
        if let pf = rows.filter({ $0.metric == "page-faults" }).compactMap({ $0.stats?.median }).max() {
            counterLine += Self.faultLine(pf, lang)
        }
        return counterLine + lang.t(".", "。")
    }

    static let claimText = Claims.Text("C5", title: ("""
        Address-translation (TLB) misses make memory access slow.
        """, """
        地址转换（快表 TLB）缺失会让访存变慢。
        """), quote: """
        硬件机制（MMU内存管理单元+页表查询）完成地址转换找到物理地址。分页内存管理，大量节约了内存占用\
        ，需要MMU更多的隐式访存
        """,
                                         rule: ("""
                                             tlb harness, ns_per_access: at the largest working set measured with both, holds when the 4 KiB row is \
                                             above the cache-only control row with disjoint CIs and by ≥ 1.2× (the extra is translation); does \
                                             not hold when 4 KiB is within 1.2× of the control or below it; otherwise inconclusive. The control \
                                             touches the same cache lines with almost no translation, so it must lie under both the 4 KiB and the 2 \
                                             MiB row: a control whose CI lies wholly above either one's is out of line and the claim is \
                                             inconclusive. 2 MiB pages are reported beside it.
                                             """,
                         """
                         `tlb` 测试的 ns_per_access：在两者都测了的最大工作集上，4 KiB 页这一行比只有缓存缺失的对照\
                         行高出 1.2 倍以上且置信区间不重叠（多出来的就是地址转换），则成立；4 KiB 页不超过对照\
                         的 1.2 倍或更低，则不成立；其余无法判定。对照链访问同样多的缓存行、几乎不做地址转换\
                         ，理应低于 4 KiB 页和 2 MiB 页两行：对照的置信区间整个高于其中任一行时，对照行异常，无\
                         法判定。2 MiB 页的结果列在旁边。
                         """),
                                         ruleID: "C5.control-in-line.v2")

    public func judgeClaims(_ run: RunResult, lang: Language) -> [Claims.Claim] {
        var c = Self.claimText.claim(lang,
                                     facts: [lang.t("THP mode: \(run.environment.thp).", "THP 模式：\(run.environment.thp)。"),
                                             Claims.virtFact(run.environment, lang)])
        let all = run.records(harness: id)
        let rows = all.filter { $0.metric == "ns_per_access" && $0.stats != nil }
        guard !rows.isEmpty else { return [c] }
        func line(_ m: String) -> [Int: Record] {
            var d: [Int: Record] = [:]
            for r in rows where r.mechanism == m { if let w = r.workingSetPages { d[w] = r } }
            return d
        }
        let four = line("4k"), control = line("control"), huge = line("2m")
        let reach = all.filter {
            ($0.metric.hasPrefix("reach_") && $0.metric.hasSuffix("_pages")) || $0.metric.hasPrefix("miss_") || $0.metric == "huge_page_reach_ratio"
        }
        guard let w = Set(four.keys).intersection(control.keys).max(), let f = four[w], let k = control[w] else {
            c.evidence = rows.sorted { ($0.workingSetPages ?? 0) < ($1.workingSetPages ?? 0) }.suffix(3).map { $0 }
            c.undecided(lang.t("no working set measured with both 4k and control rows", "没有哪个工作集同时测了 4k 和 control"))
            return [c]
        }
        let smallest = four.keys.min().flatMap { four[$0] }
        c.evidence = [f, k] + (huge[w].map { [$0] } ?? []) + (smallest.map { $0.workingSetPages != w ? [$0] : [] } ?? []) + reach
        if let bad = Claims.invalidWhy([f, k], lang) { c.undecided(bad); return [c] }
        let (mf, mk) = (Claims.med(f), Claims.med(k))
        let ratio = mf / mk
        c.values += [.init("4k_over_control", ratio, unit: "ratio"), .init("translation_per_access", mf - mk, unit: "ns"),
                     .init("4k_ns_per_access", mf, unit: "ns"), .init("control_ns_per_access", mk, unit: "ns"), .init("pages", Double(w), unit: "pages")]
        c.measured.append(lang.t("""
            at \(w) pages: 4 KiB \(humanTime(mf)) vs control \(humanTime(mk)) per access, ratio \(Format.times(ratio)); translation adds \
            \(humanTime(mf - mk)) per access
            """,
                                 """
                                 在 \(w) 页时：每次访问 4 KiB 页 \(humanTime(mf))，对照 \(humanTime(mk))，比值 \(Format.times(ratio))\
                                 ；地址转换每次多花 \(humanTime(mf - mk))
                                 """))
        if let above = Self.controlOutOfLine(control: k, fourK: f, huge: huge[w]) {
            Self.judgeOutOfLine(&c, above, w: w, mk: mk, lang)
            return [c]
        }
        c.measured += Self.sideLines(run, w: w, mf: mf, huge2m: huge[w], smallest: smallest, reach: reach, lang)
        Self.decide(&c, f, over: k, ratio: ratio, lang)
        c.deciding = ["4k_over_control"]
        c.advice = Self.advice(w: w, mf: mf, mk: mk, holds: c.verdict == .holds, lang)
        return [c]
    }

    /// The control row lies above the 4 KiB or 2 MiB row (`above`): the line saying so, and why the
    /// claim is inconclusive.
    static func judgeOutOfLine(_ c: inout Claims.Claim, _ above: Record, w: Int, mk: Double, _ lang: Language) {
        let other = above.mechanism == "2m" ? lang.t("2 MiB", "2 MiB 页") : lang.t("4 KiB", "4 KiB 页")
        c.measured.append(lang.t("""
            at \(w) pages the control (\(humanTime(mk))) lies above \(other) (\(humanTime(Claims.med(above)))) beyond their CIs: the control \
            row is out of line
            """,
                                 """
                                 在 \(w) 页时，对照（\(humanTime(mk))）高于\(other)（\(humanTime(Claims.med(above)))），置信区\
                                 间不重叠：对照行异常
                                 """))
        c.deciding = ["4k_over_control"]
        c.undecided(lang.t("""
            inconclusive (the control row is out of line): at \(w) pages the control, \(humanTime(mk)) per access, is above \(other), \
            \(humanTime(Claims.med(above))), which it should lie under
            """,
                           """
                           无法判定（对照行异常）：在 \(w) 页时，对照每次访问 \(humanTime(mk))，反而高于理应比它\
                           慢的\(other)（\(humanTime(Claims.med(above)))）
                           """))
        c.advice = lang.t("""
            At \(w) pages the cache-only control (\(humanTime(mk))) came out slower than \(other) (\(humanTime(Claims.med(above)))), which it \
            should never be: this run cannot say what the page walk costs; rerun `tlb` on a quieter machine.
            """,
                          """
                          在 \(w) 页时，只有缓存缺失的对照（\(humanTime(mk))）反而比\(other)（\(humanTime(Claims.med(above)))\
                          ）还慢，这本不应发生：这次运行说不出查页表的代价，请在更安静的机器上重测 `tlb`。
                          """)
    }

    /// The lines beside the deciding pair: 2 MiB pages at the same W, 4 KiB inside the TLB, the reach
    /// and miss rows, and the huge-page sentence.
    static func sideLines(_ run: RunResult, w: Int, mf: Double, huge2m: Record?, smallest: Record?, reach: [Record],
                          _ lang: Language) -> [String] {
        var lines: [String] = []
        if let h = huge2m {
            let mh = Claims.med(h)
            lines.append(lang.t(String(format: "2 MiB pages at %d pages: %.2f ns per access (", w,
                mh) + (mh <= mf ? "4 KiB pages cost \(Format.times(mf / mh)) as much)" : "\(Format.times(mh / mf)) what 4 KiB pages cost)"),
                                     String(format: "2 MiB 页在 %d 页时：每次访问 %.2f ns（", w, mh) + (mh <= mf ? """
                                         4 KiB 页的代价是它的 \(Format.sig3(mf / mh)) 倍）
                                         """ : "是 4 KiB 页的 \(Format.sig3(mh / mf)) 倍）")))
        }
        if let s = smallest, s.workingSetPages != w {
            lines.append(lang.t(String(format: "4 KiB at %d pages (inside the TLB): %.2f ns per access", s.workingSetPages ?? 0, Claims.med(s)),
                                     String(format: "4 KiB 页在 %d 页时（快表装得下）：每次访问 %.2f ns", s.workingSetPages ?? 0,
                                            Claims.med(s))))
        }
        for r in reach {
            lines.append("`\(r.mechanism) \(r.metric)`: " + Format.value(r.stats?.median, unit: r.unit, lang: lang))
        }
        if let huge = hugeSentence(run, lang) { lines.append(huge) }
        return lines
    }

    /// The verdict on 4 KiB over the control and its sentence (en/zh).
    static func decide(_ c: inout Claims.Claim, _ f: Record, over k: Record, ratio: Double, _ lang: Language) {
        c.decide(Claims.ratioVerdict(f, over: k, atLeast: 1.2, failsBelow: 1.2),
                 holds: lang.t("""
                     beyond the TLB's reach each access costs \(Format.sig3(ratio)) times the cache-only control: the page walk is the difference.
                     """, """
                     超出快表的覆盖范围后，每次访问的代价是只有缓存缺失时的 \(Format.sig3(ratio)) 倍：多出来的就\
                     是查页表。
                     """),
                 doesNotHold: lang.t("4 KiB pages cost within 1.2× of the cache-only control at the largest working set.",
                                     "在最大的工作集上，4 KiB 页的代价不到对照的 1.2 倍。"),
                 otherwise: lang.t("ratio \(Format.times(ratio)) but the CIs overlap.", "比值 \(Format.times(ratio))，但置信区间重叠。"))
    }

    /// What the note should say: the page walk's cost per access, or that it is not clearly slower.
    static func advice(w: Int, mf: Double, mk: Double, holds: Bool, _ lang: Language) -> String {
        let ratio = mf / mk
        let extra = humanTime(mf - mk)
        return holds
            ? lang.t("""
                At \(ManyFormat.count(w)) pages, more than the TLB holds, each access costs \(humanTime(mf)) with 4 KiB pages against \
                \(humanTime(mk)) when only the cache misses: the page-table walk adds \(extra) per access, \(Format.sig3(ratio)) times the cost.
                """,
                     """
                     在 \(ManyFormat.count(w)) 页时（超出快表能装下的范围），用 4 KiB 页每次访问要 \(humanTime(mf))，只有\
                     缓存缺失时是 \(humanTime(mk))：查页表让每次访问多花 \(extra)，代价是原来的 \(Format.sig3(ratio)) 倍。
                     """)
            : lang.t("""
                At \(w) pages each access costs \(humanTime(mf)) with 4 KiB pages against \(humanTime(mk)) when only the cache misses \
                (\(Format.times(ratio))): on this machine the page-table walk does not make access clearly slower.
                """,
                     """
                     在 \(w) 页时，用 4 KiB 页每次访问要 \(humanTime(mf))，只有缓存缺失时是 \(humanTime(mk))（\
                     \(Format.times(ratio))）：在这台机器上查页表并没有让访存明显变慢。
                     """)
    }

    /// The control chain touches the same cache lines as the 4 KiB and 2 MiB chains with (almost) no
    /// translation, so it cannot honestly cost more than either: the first of them (2 MiB, then 4 KiB)
    /// whose CI lies wholly below the control's, or nil when the control is in line.
    static func controlOutOfLine(control k: Record, fourK f: Record, huge h: Record?) -> Record? {
        guard let sk = k.stats else { return nil }
        for r in [h, f].compactMap({ $0 }) where r.valid {
            if let s = r.stats, sk.ci95Low > s.ci95High { return r }
        }
        return nil
    }

    public func plots(_ run: RunResult, lang: Language) -> [Plot] {
        let title = lang.t("TLB curve: ns per access vs working set", "快表曲线：每次访问的时间随工作集的变化")
        return TLBPlot.render(run, lang: lang).map { [Plot(name: "tlb.svg", title: title, contents: $0)] } ?? []
    }

    /// TLB sweep points past the second-level reach: each access is a page walk (or, for the
    /// control chain, a last-level-cache miss) whose cost in a guest follows where the host put the
    /// memory; measured here, such points moved 12–40 % between back-to-back runs of unchanged code.
    /// The reach itself (a fact row) and the points below it are what a regression shows in.
    public func compareExemption(_ c: Comparison.Case, baseline: [CaseKey: Record], current: [CaseKey: Record]) -> (en: String, zh: String)? {
        guard let w = c.workingSetPages,
              let reachL2 = baseline.values.first(where: {
                  $0.harness == id && $0.mechanism == "4k" && $0.metric == TLBAnalysis.reachPages && $0.parameter(.tlbLevel) == 2
              })?.stats?.median,
              Double(w) > reachL2 else { return nil }
        return (String(format: "%d pages is past the second-level TLB reach (%.0f pages): page-walk bound, follows the host's memory placement; not counted", w,
                       reachL2),
                String(format: """
                    %d 页已超出二级快表的覆盖范围（%.0f 页）：受页表遍历限制，随宿主机的内存摆放而变，不计入
                    """, w, reachL2))
    }
}
