import Foundation

/// What the many-tasks presentations share: a claim verdict with its numbers, a plain Markdown table,
/// and number formats. Plain functions over records: no harness state, no I/O.
public struct ManyClaim: Sendable, Equatable {
    public enum Verdict: String, Sendable { case holds, doesNotHold = "does not hold", inconclusive }
    public var id: String
    public var verdict: Verdict
    /// The rule, in the chosen language.
    public var rule: String
    /// The verdict with the numbers it rests on, in the chosen language.
    public var text: String

    /// "**C8 holds**: …" / "**C8 成立**：…"
    public func markdown(_ language: Language) -> String {
        let v: String
        switch (verdict, language) {
        case (.holds, .en): v = "holds"
        case (.doesNotHold, .en): v = "does not hold"
        case (.inconclusive, .en): v = "inconclusive"
        case (.holds, .zh): v = "成立"
        case (.doesNotHold, .zh): v = "不成立"
        case (.inconclusive, .zh): v = "无法判定"
        }
        return language == .zh ? "**\(id) \(v)**：\(text)\n\n规则：\(rule)\n"
                               : "**\(id) \(v)**: \(text)\n\nRule: \(rule)\n"
    }
}

enum ManyFormat {
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    static func bytes(_ b: Double?) -> String {
        guard let b, b.isFinite else { return "n/a" }
        let a = abs(b)
        let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
        if a >= gib { return String(format: "%.1f GiB", b / gib) }
        if a >= mib { return String(format: "%.1f MiB", b / mib) }
        if a >= 10 * kib { return String(format: "%.0f KiB", b / kib) }
        if a >= kib { return String(format: "%.1f KiB", b / kib) }
        return String(format: "%.0f B", b)
    }

    static func time(_ ns: Double?) -> String {
        guard let ns, ns.isFinite else { return "n/a" }
        if ns >= 1e6 { return String(format: "%.2f ms", ns / 1e6) }
        if ns >= 1e3 { return String(format: "%.2f µs", ns / 1e3) }
        return String(format: "%.0f ns", ns)
    }

    static func count(_ n: Int) -> String {
        n >= 1000 ? String(format: "%d %03d", n / 1000, n % 1000) : String(n)
    }

    /// The kind's name for people: 进程 / 线程 / 协程 in Chinese.
    static func kind(_ mechanism: String, _ language: Language) -> String {
        switch (mechanism, language) {
        case ("process", .en): return "process"
        case ("thread", .en): return "thread"
        case ("asm", .en): return "asm coroutine"
        case ("swift-task", .en): return "Swift task"
        case ("process", .zh): return "进程"
        case ("thread", .zh): return "线程"
        case ("asm", .zh): return "协程（asm）"
        case ("swift-task", .zh): return "协程（Swift task）"
        default: return mechanism
        }
    }

    static func median(_ r: Record?) -> Double? { r?.stats?.median }

    /// The n/a reason of an empty row, without the prefix.
    static func naReason(_ r: Record?) -> String? {
        guard let r, r.stats == nil else { return nil }
        return r.note.split(separator: ";").first.map { String($0).replacingOccurrences(of: "n/a: ", with: "") }
    }
}
