/// The first-level reach from repeated searches: each search (a bisection on `variant − control`
/// between a working set inside the level and one past it, `TLBHarness`) reads one reach, at a
/// different time. The host slows or crowds this guest in phases (a phase in which this thread holds
/// fewer first-level entries reads a smaller reach, and one search meets one phase), so the reach is
/// what most searches agree on, never one search's reading:
///
/// - searches *agree* when they read within `tolerance` of each other (at least one page: the
///   bisection's resolution: ±1 page up to 74 pages). Tight on purpose: readings in crowded phases
///   scatter over a few pages and must not pool into a false majority;
/// - the reach is the most frequent reading (a tie: the larger) of the *highest* agreeing group that
///   holds at least two searches and at least `quorum` of all of them: a crowded phase only ever
///   lowers a reading, so of the well-held groups the highest is the clean one (seen here: 5 of 12
///   read 72 while a phase of seconds held the other 7 on 56–61). When no group is that well held,
///   the largest group (a tie: the higher) is reported, flagged;
/// - the vote holds (`agreed`) when such a group exists and no reading lies above it: a higher reading
///   means the level holds more and the group agrees on a phase that crowded the TLB steadily (seen
///   here: 7 of 12 on 62–64 pages while one search read 72). Otherwise the reach is reported with the
///   searches' readings and flagged.
public struct ReachVote: Sendable, Equatable {
    /// Each search's reading, in the order they ran.
    public var readings: [Int]
    /// The reach: the most frequent reading of the largest agreeing group; nil when no search ran.
    public var reach: Int?
    /// Searches in that group.
    public var agreeing: Int
    public var agreed: Bool
    public var searches: Int { readings.count }

    public static let tolerance = 0.02
    public static let quorum = 1.0 / 3

    public init(_ readings: [Int], tolerance: Double = ReachVote.tolerance, quorum: Double = ReachVote.quorum) {
        self.readings = readings
        func near(_ a: Int, _ b: Int) -> Bool {
            abs(a - b) <= max(1, Int((tolerance * Double(max(a, b))).rounded()))
        }
        let held = max(2, Int((quorum * Double(readings.count)).rounded(.up)))
        // A group around each reading, ascending; a tie in size below goes to the higher group.
        let groups = Set(readings).sorted().map { v in (center: v, members: readings.filter { near($0, v) }) }
        func largest(_ gs: [(center: Int, members: [Int])]) -> [Int] {
            var out: [Int] = []
            for g in gs where g.members.count >= out.count { out = g.members }
            return out
        }
        let wellHeldGroups = groups.filter { $0.members.count >= held }
        var best: [Int]
        if let top = wellHeldGroups.last?.center {
            // The highest well-held group, as the largest of the well-held groups around its centre
            // (a window one page higher or lower may hold more of the same readings).
            best = largest(wellHeldGroups.filter { near($0.center, top) })
        } else {
            best = largest(groups)
        }
        let wellHeld = !wellHeldGroups.isEmpty
        var counts: [Int: Int] = [:]
        for v in best { counts[v, default: 0] += 1 }
        reach = counts.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key
        agreeing = best.count
        let top = best.max() ?? Int.max
        above = readings.filter { $0 > top }
        agreed = wellHeld && above.isEmpty
    }

    /// Readings above the agreeing group (each a search that found the level holding more).
    public var above: [Int]

    /// The readings as a fact value ("72 72 64 …", in the order they ran).
    public var readingsText: String { readings.map(String.init).joined(separator: " ") }

    /// One line for the reach row's note.
    public var summary: String {
        guard let reach else { return "no search ran" }
        return """
            \(agreeing) of \(searches) searches agree on \(reach) pages (agreeing: within \(Int(Self.tolerance * 100)) %, at least one page; \
            readings in run order: \(readingsText))
            """
    }

    /// Why the vote does not hold; nil when it does.
    public var disagreement: String? {
        guard !agreed else { return nil }
        guard reach != nil else { return "no first-level search ran" }
        if !above.isEmpty && agreeing >= max(2, Int((Self.quorum * Double(searches)).rounded(.up))) {
            return """
                the first-level searches disagree: \(agreeing) of \(searches) agree on \(reach!) pages, but \(above.count) read more \
                (\(above.map(String.init).joined(separator: " "))), and a crowded phase only lowers a reading; readings \(readingsText)
                """
        }
        return """
            the first-level searches disagree: the largest agreeing group holds \(agreeing) of \(searches) (needs at least 2 and a third of them); \
            readings \(readingsText)
            """
    }
}
