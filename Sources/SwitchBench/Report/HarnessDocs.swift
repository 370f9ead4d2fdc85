/// The two blocks of the docs written from the registry, so that a new harness is its folder and its
/// registry line and the docs still never say what the registry does not: README.md's harness list and
/// docs/harnesses.md's harness table, each from what every harness declares (`HarnessInfo`: id, claims,
/// summary, mechanisms, one op, its section; its `declaredOptions`).
///
/// `switchbench list --format docs` prints both blocks; scripts/harness-docs.py writes them between their
/// marker lines and says which harness it added, changed or removed (make-reference.sh runs it). The tests
/// check a document with `staleness`: every row present must be the row the registry writes now, no row
/// may name a harness the registry lacks, rows stay in registry order. A registered harness that has no
/// row yet is not stale: regenerating adds it (and says so).
public enum HarnessDocs {
    public enum Block: String, CaseIterable, Sendable {
        /// README.md's list: a line per harness, its claims and summary.
        case list = "harness list"
        /// docs/harnesses.md's table: claims, one op, mechanisms, options.
        case table = "harness table"

        /// The file it lives in, from the repository root.
        public var file: String { self == .list ? "README.md" : "docs/harnesses.md" }
        public var begin: String {
            "<!-- BEGIN \(rawValue): written from the registry by scripts/harness-docs.py (switchbench list --format docs) -->"
        }
        public var end: String { "<!-- END \(rawValue) -->" }
        /// The lines between `begin` and the rows.
        public var header: [String] {
            self == .table ? ["| harness | claim | one op | mechanisms | options |", "|---|---|---|---|---|"] : []
        }

        /// The line of one harness.
        public func row(_ h: any Harness) -> String {
            var name = "`\(h.id)`"
            if let section = h.info.section { name = "[\(name)](\(self == .list ? "docs/harnesses.md" : "")#\(section))" }
            if !h.includedInAll { name += " (not in `--all`)" }
            let claims = h.claims.joined(separator: ", ")
            switch self {
            case .list:
                return "- \(name)" + (claims.isEmpty ? "" : " (\(claims))") + ": \(h.summary)"
            case .table:
                let mechanisms = h.mechanisms.map { "`\($0.id)`" }.joined(separator: ", ")
                let options = h.declaredOptions.map { "`\($0.flag)`" }.joined(separator: ", ")
                return "| " + [name, claims, h.info.op, mechanisms, options].map { $0.isEmpty ? "–" : $0 }
                    .joined(separator: " | ") + " |"
            }
        }

        /// The whole block, markers included, for these harnesses in their order.
        public func lines(_ harnesses: [any Harness] = Registry.harnesses) -> [String] {
            [begin] + header + harnesses.map(row) + [end]
        }
    }

    /// Both blocks, what `switchbench list --format docs` prints.
    public static func render(_ harnesses: [any Harness] = Registry.harnesses) -> String {
        Block.allCases.map { $0.lines(harnesses).joined(separator: "\n") + "\n" }.joined(separator: "\n")
    }

    /// The lines between a block's markers in a document (header included); nil without both markers.
    public static func body(of block: Block, in text: String) -> [String]? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let b = lines.firstIndex(of: block.begin),
              let e = lines[b...].firstIndex(of: block.end) else { return nil }
        return Array(lines[(b + 1)..<e])
    }

    /// The harness a row is about: its first code span.
    public static func harnessID(ofRow row: String) -> String? {
        row.firstMatch(of: /`([^`]+)`/).map { String($0.output.1) }
    }

    /// What in a document's block the registry contradicts, one line each (empty: nothing): missing
    /// markers or header, a row that names no harness or one the registry lacks, a row that is not the
    /// row its harness writes now, a harness twice, rows out of registry order. A registered harness
    /// with no row is not in it (regenerating adds the row).
    public static func staleness(of block: Block, in text: String,
                                 harnesses: [any Harness] = Registry.harnesses) -> [String] {
        guard let body = body(of: block, in: text) else {
            return ["\(block.file) has no \(block.rawValue) block (\(block.begin) … \(block.end))"]
        }
        guard body.starts(with: block.header) else { return ["\(block.file): the \(block.rawValue)'s header is not \(block.header)"] }
        var problems: [String] = [], seen: [Int] = []
        for row in body.dropFirst(block.header.count) {
            guard let id = harnessID(ofRow: row) else { problems.append("\(block.file): a row names no harness: \(row)"); continue }
            guard let i = harnesses.firstIndex(where: { $0.id == id }) else {
                problems.append("\(block.file): the \(block.rawValue) names `\(id)`, which the registry lacks")
                continue
            }
            if seen.contains(i) { problems.append("\(block.file): `\(id)` has two rows") }
            if let last = seen.last, i < last { problems.append("\(block.file): `\(id)` is out of registry order") }
            seen.append(i)
            let now = block.row(harnesses[i])
            if row != now { problems.append("\(block.file): the row of `\(id)` is stale:\n  is:  \(row)\n  now: \(now)") }
        }
        return problems
    }
}
