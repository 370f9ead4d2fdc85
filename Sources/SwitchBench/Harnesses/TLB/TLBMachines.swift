import Foundation

// The tlb harness's part of machines.md (`switchbench report A B …`): its reach per level and its 2 MiB
// outcome for each run, read from the typed facts its rows carry.

/// One knee of the tlb sweep: the reach (pages, 4 KiB-strided) and the extra ns per access past it.
public struct MachineTLBLevel: Equatable, Sendable {
    public var pages: Double
    public var extraNs: Double?
    public var bytes: Double { pages * 4096 }
}

/// The knees of the 4 KiB and 2 MiB curves, by level (1 = L1 dTLB, 2 = STLB, 3… page walks slowing).
public struct MachineTLBReach: Equatable, Sendable {
    public var small: [Int: MachineTLBLevel]
    public var huge: [Int: MachineTLBLevel]
    public var levels: Int { max(small.keys.max() ?? 0, huge.keys.max() ?? 0) }
}

/// The 2 MiB outcome as the tlb harness recorded it (`TLBAnalysis.HugeOutcome.of`: its `outcome` fact,
/// or for an older CSV its rule applied to the ratio) and whether the kernel granted the huge pages
/// (`HugeGrant.of`, nil in older CSVs).
public struct MachineHugePages: Equatable, Sendable {
    public var outcome: TLBAnalysis.HugeOutcome
    public var grant: HugeGrant?
    /// The `huge_page_reach_ratio` row's value; nil when the row has none.
    public var ratio: Double?
    /// The 2 MiB curve had no knee in the sweep: `ratio` is a lower bound.
    public var lowerBound: Bool
}

extension MachineColumn {
    /// The tlb harness's `reach_pages` and `miss_extra_ns` fact rows (level i in `tlb_level`) of the 4k and 2m curves.
    public var tlbReach: MachineCell<MachineTLBReach> {
        guard ran("tlb") else { return .notMeasured }
        let rows = run.records(harness: "tlb")
        func levels(_ variant: String) -> [Int: MachineTLBLevel] {
            var out: [Int: MachineTLBLevel] = [:]
            var level = 1
            while let r = rows.first(where: { $0.mechanism == variant && $0.metric == TLBAnalysis.reachPages && $0.parameter(.tlbLevel) == level }) {
                if let pages = r.stats?.median {
                    let extra = rows.first {
                        $0.mechanism == variant && $0.metric == TLBAnalysis.missExtraNs && $0.parameter(.tlbLevel) == level
                    }?.stats?.median
                    out[level] = MachineTLBLevel(pages: pages, extraNs: extra)
                }
                level += 1
            }
            return out
        }
        let reach = MachineTLBReach(small: levels("4k"), huge: levels("2m"))
        return reach.levels == 0 ? .missing : .value(reach)
    }

    /// The harness's own 2 MiB verdict and grant; `.missing` when the run has no `huge_page_reach_ratio` row.
    public var hugePages: MachineCell<MachineHugePages> {
        guard ran("tlb") else { return .notMeasured }
        guard let outcome = TLBAnalysis.HugeOutcome.of(run) else {
            // smaps unreadable: the harness judged nothing, but says why
            return HugeGrant.of(run) == .unverified ? .value(MachineHugePages(outcome: .unknown, grant: .unverified, ratio: nil, lowerBound: false)) : .missing
        }
        let tlb = run.records(harness: "tlb")
        let ratio = tlb.first { $0.metric == "huge_page_reach_ratio" }?.stats?.median
        let twoMKnee = tlb.contains { $0.mechanism == "2m" && $0.metric == TLBAnalysis.reachPages && $0.parameter(.tlbLevel) == 1 && $0.stats != nil }
        return .value(MachineHugePages(outcome: outcome, grant: HugeGrant.of(run), ratio: ratio, lowerBound: !twoMKnee))
    }
}

extension TLBHarness {
    public func machinesSection(_ page: MachinesPage) -> String? {
        let lang = page.lang
        var out = "## " + lang.t("TLB reach per level", "快表（TLB）各级覆盖范围") + "\n\n"
        out += lang.t("""
            Where the translation cost of a pointer chase steps up (tlb harness): the reach in pages (and in 4 KiB-strided \
            bytes), then the extra time per access past it. Knees past the second level are page walks slowing as the page \
            tables leave the caches, not TLB levels.
            """, """
            指针追逐的地址转换代价在何处跳升（`tlb` 测试）：覆盖的页数（按 4 KiB 步长折算的字节数），以及超\
            出后每次访问多花的时间。\
            第二级之后的拐点是页表离开缓存、查页表变慢，不是又一级快表。
            """) + "\n\n"
        let reaches = page.columns.map(\.tlbReach)
        let levels = reaches.map { $0.value?.levels ?? 0 }.max() ?? 0
        func levelName(_ level: Int) -> String {
            level <= 2 ? TLBHarness.levelName(level - 1, lang)
                : lang.t("knee \(level): ", "第 \(level) 个拐点：") + TLBHarness.levelName(level - 1, lang)
        }
        var tlbRows: [(String, [String])] = []
        for (huge, pageName) in [(false, lang.t("4 KiB pages", "4 KiB 页")), (true, lang.t("2 MiB pages", "2 MiB 大页"))] {
            for level in stride(from: 1, through: max(levels, 1), by: 1) {
                let present = reaches.contains { r in r.value.map { (huge ? $0.huge : $0.small)[level] != nil } ?? false }
                guard present || (level == 1 && levels == 0) else { continue }
                tlbRows.append(("\(pageName)\(lang.t(": ", "："))\(levelName(level))", reaches.map { r in
                    page.cell(r) { reach in
                        guard let l = (huge ? reach.huge : reach.small)[level] else { return page.missing }
                        var s = Format.value(l.pages, unit: "pages", lang: lang) + lang.t(" (\(Format.bytes(l.bytes)))", "（\(Format.bytes(l.bytes))）")
                        if let e = l.extraNs { s += lang.t(", then +\(humanTime(e))", "，超出后 +\(humanTime(e))") }
                        return s
                    }
                }))
            }
        }
        tlbRows.append((lang.t("**huge pages (2 MiB)**", "**大页（2 MiB）**"),
                        page.columns.map { c in page.cell(c.hugePages) { Self.machinesHugeText($0, lang) } }))
        out += page.table(lang.t("TLB level", "快表层级"), tlbRows) + "\n\n"
        return out
    }

    /// A short cell for the tlb harness's 2 MiB outcome (the long sentence is results.md's), with the grant.
    static func machinesHugeText(_ h: MachineHugePages, _ lang: Language) -> String {
        var s: String
        switch h.outcome {
        case .reachGain(let f):
            if h.lowerBound || f.isInfinite {
                let bound = h.ratio.map { lang.t(" (≥ \(Format.times($0)))", "（至少 \(Format.times($0))）") } ?? ""
                s = lang.t("extend the first-level reach beyond the sweep", "大页让一级快表的覆盖范围超出了扫描范围") + bound
            } else {
                s = lang.t("extend the first-level reach \(Format.times(f))", "大页让一级快表的覆盖范围扩大到 \(Format.times(f))")
            }
        case .noReachGain:
            let r = h.ratio.map { lang.t(" (\(Format.times($0)))", "（\(Format.times($0))）") } ?? ""
            s = lang.t("no reach gain\(r): likely 4 KiB backing on the host", "覆盖范围没有扩大\(r)：宿主机可能仍以 4 KiB 页映射")
        case .partialGain(let f):
            s = lang.t("first-level reach only \(Format.times(f)) (partly small pages?)",
                       "一级覆盖范围只扩大到 \(Format.times(f))（可能部分仍是小页）")
        case .notGranted:
            s = lang.t("not granted: the 2 MiB curve is a 4 KiB curve", "内核没有分配大页：2 MiB 曲线其实是 4 KiB 页的曲线")
        case .unknown where h.grant == .unverified:
            return lang.t("no verdict: whether huge pages were granted is not known (smaps unreadable)",
                          "无结论：不知道内核是否分配了大页（读不到 smaps）")
        case .unknown:
            s = lang.t("no verdict: no first-level knee on the 4 KiB curve", "无结论：4 KiB 曲线没有一级拐点")
        }
        switch h.grant {
        case .partial? where h.outcome != .notGranted: s += lang.t(" (huge pages not fully granted)", "（大页没有全部分配到）")
        case .unverified?: s += lang.t(" (grant not verified: smaps unreadable)", "（无法确认内核是否分配了大页：读不到 smaps）")
        default: break
        }
        return s
    }
}
