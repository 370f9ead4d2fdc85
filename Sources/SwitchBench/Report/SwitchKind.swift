import Foundation

/// A kind of switch the suite compares across harnesses: the two-task, no-footprint row of one case
/// (`RunResult.row`, the one row finder), with its name. Each harness declares its own (`Harness.switchKinds`, in its folder);
/// `SwitchKind.allCases` is every registered harness's, cheapest tier first: one list for the
/// switch-cost table and plot and the side-by-side report (machines.md).
public struct SwitchKind: Hashable, Sendable {
    /// Where a kind sorts: user-mode switches, the privilege switch alone, then thread and process switches.
    public enum Tier: Int, Sendable, Comparable {
        case userMode, privilege, thread, process
        public static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }
    }

    public var harness: String
    public var mechanism: String
    /// per_call for a system call (no switch of task), per_switch for the others.
    public var metric: String
    public var tier: Tier
    /// The kind's name ("thread switch", "线程切换") and what tells it from its tier's others (a code
    /// span in Markdown; nil: none).
    public var en: String, zh: String, detail: String?
    /// Whether switch-cost.svg draws it.
    public var plotted: Bool
    /// Whether it is the class table's candidate for its tier, and in which order (lower first; nil: not
    /// a candidate). The ledger (`Ledger.classKinds`) takes the first candidate the run measured.
    public var classRank: Int?
    /// Whether its row comes from alternating pairs (timed in one loop with its counterpart).
    public var paired: Bool
    /// How the harness forces the switch, in both languages: one line for the page.
    public var forced: (en: String, zh: String)?

    public init(harness: String, mechanism: String, metric: String = "per_switch", tier: Tier,
                en: String, zh: String, detail: String? = nil, plotted: Bool = true, classRank: Int? = nil,
                paired: Bool = false, forced: (en: String, zh: String)? = nil) {
        (self.harness, self.mechanism, self.metric, self.tier) = (harness, mechanism, metric, tier)
        (self.en, self.zh, self.detail, self.plotted) = (en, zh, detail, plotted)
        (self.classRank, self.paired, self.forced) = (classRank, paired, forced)
    }

    public static func == (a: SwitchKind, b: SwitchKind) -> Bool { a.id == b.id }
    public func hash(into h: inout Hasher) { h.combine(id) }

    /// "thread/futex": the harness and mechanism, unique among kinds ("anatomy/yield:thread_switch" where
    /// one mechanism gives several kinds).
    public var id: String { metric == "per_switch" || metric == "per_call" ? "\(harness)/\(mechanism)" : "\(harness)/\(mechanism):\(metric)" }

    /// Every registered harness's kinds, by tier, then in registry order.
    public static var allCases: [SwitchKind] {
        Registry.harnesses.flatMap(\.switchKinds).enumerated()
            .sorted { ($0.element.tier, $0.offset) < ($1.element.tier, $1.offset) }.map(\.element)
    }

    /// The registered kind with this id ("thread/pipe"), nil when no harness declares it.
    public static func named(_ id: String) -> SwitchKind? { allCases.first { $0.id == id } }

    /// The kinds switch-cost.svg draws.
    static var plotted: [SwitchKind] { allCases.filter(\.plotted) }

    /// The row of this kind in a run at a placement, nil when not measured.
    public func row(_ run: RunResult, placement: Placement = .sameCPU) -> Record? {
        run.row(harness, mechanism, metric, placement: placement)
    }

    /// "thread switch (futex)"; in Markdown the detail is a code span.
    public func label(_ lang: Language, markdown: Bool = false) -> String {
        guard let detail else { return lang.t(en, zh) }
        let d = markdown ? "`\(detail)`" : detail
        return lang.t("\(en) (\(d))", "\(zh)（\(d)）")
    }
}
