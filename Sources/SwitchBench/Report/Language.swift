/// The language of everything written for people (Markdown, the claims report, SVG text, compare's
/// Markdown). CSV, JSON and identifiers stay English: they are the machine contract.
public enum Language: String, Sendable, CaseIterable, Codable {
    case en
    case zh
}
