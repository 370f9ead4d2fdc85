import Foundation

/// What the many-tasks presentations (memory: C8, events: C9) share: the kinds' names for people, N
/// written for reading, and the reason of a case that was not run. Values go through `Format`.
enum ManyFormat {
    /// N for people: "1 000", "10 000".
    static func count(_ n: Int) -> String {
        n >= 1000 ? String(format: "%d %03d", n / 1000, n % 1000) : String(n)
    }

    /// Distinct pairs of numbers (N, K or N, stack) in order, first number first.
    static func sortedPairs(_ pairs: [[Int]]) -> [[Int]] {
        let distinct: Set<[Int]> = Set(pairs)
        return distinct.sorted { (a: [Int], b: [Int]) -> Bool in a.lexicographicallyPrecedes(b) }
    }

    /// The kind's name for people: 进程 / 线程 / 协程 in Chinese.
    static func kind(_ mechanism: String, _ lang: Language) -> String {
        lang.name(mechanism, in: kindNames, else: mechanism)
    }
    static let kindNames: [String: (en: String, zh: String)] = [
        "process": ("process", "进程"), "thread": ("thread", "线程"),
        "asm": ("asm coroutine", "协程（asm）"), "swift-task": ("Swift task", "协程（Swift 任务）")]

    /// A kind's name followed by a value: a space after it, none after a closing full-width parenthesis.
    static func spaced(_ kind: String) -> String { kind.hasSuffix("）") ? kind : kind + " " }

    /// The limit that stopped a case before anything was created (an n/a row: no samples), nil for a
    /// measured row. The harness wrote it as its own note ("n/a: <limit>"); it names system settings,
    /// so it is shown as a code span in both languages.
    static func notRun(_ r: Record?, _ lang: Language) -> String? {
        guard let r, r.stats == nil else { return nil }
        let reason = r.note.split(separator: ";").first.map { String($0).replacingOccurrences(of: "n/a: ", with: "") } ?? ""
        return lang.t("not run: ", "未运行：") + "`\(reason)`"
    }
}
