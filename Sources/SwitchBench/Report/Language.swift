/// The language of everything written for people (Markdown, the claims report, SVG text, compare's
/// Markdown). CSV, JSON and identifiers stay English: they are the machine contract.
public enum Language: String, Sendable, CaseIterable, Codable {
    case en
    case zh

    /// The text in this language: `lang.t("English", "中文")`. Each text is written for its reader,
    /// not translated word by word; identifiers, units and mechanism ids stay as they are in both.
    public func t(_ en: String, _ zh: String) -> String {
        self == .en ? en : zh
    }

    /// The name for people of `key` in a table of (English, Chinese) names; `fallback` when it has none.
    public func name(_ key: String, in table: [String: (en: String, zh: String)], else fallback: String) -> String {
        table[key].map { t($0.en, $0.zh) } ?? fallback
    }
}
