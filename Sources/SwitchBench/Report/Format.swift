import Foundation

/// Human units for a duration in nanoseconds, three significant digits: "3.20 ns", "412 ns",
/// "2.91 µs", "20.1 ms"; never "-0.00 ns" (a value that rounds to zero is "0 ns").
public func humanTime(_ ns: Double?) -> String {
    guard let ns, ns.isFinite else { return "n/a" }
    let a = abs(ns)
    switch a {
    case ..<0.005: return "0 ns"
    case ..<999.5: return Format.sig3(ns) + " ns"
    case ..<999_500: return Format.sig3(ns / 1e3) + " µs"
    case ..<999_500_000: return Format.sig3(ns / 1e6) + " ms"
    default: return Format.sig3(ns / 1e9) + " s"
    }
}

/// The one unit-aware value formatter of everything written for people: times in human units,
/// pages, bytes, ratios, counts; CIs and ratios in one style.
public enum Format {
    /// What a value of an invalid row carries after it: " (invalid)", "（无效）"; empty when valid.
    public static func invalidMark(_ valid: Bool, _ lang: Language) -> String {
        valid ? "" : lang.t(" (invalid)", "（无效）")
    }

    /// A value in its unit: ns → "412 ns"/"2.91 µs", pages → "72 pages", bytes → "288 KiB",
    /// ratio → "234×", anything else "%.4g unit". "–" for nil.
    public static func value(_ v: Double?, unit: String, lang: Language = .en) -> String {
        guard let v, v.isFinite else { return "–" }
        switch unit {
        case "ns": return humanTime(v)
        case "pages": return String(format: "%.0f ", v) + lang.t("pages", "页")
        case "bytes": return bytes(v)
        case "ratio": return times(v)
        case "ratio2": return lang.t("about \(sig2(v))×", "约 \(sig2(v)) 倍")
        case "percent": return sig3(v) + " %"
        case "tasks": return String(format: "%.0f", v)
        case "turns": return (v >= 0 && v < 1e6 ? ManyFormat.count(Int(v.rounded())) : String(format: "%.0f", v)) + lang.t(" turns", " 次")
        case "state": return v == 1 ? lang.t("yes", "是") : (v == 0 ? lang.t("no", "否") : sig3(v))
        case "": return sig3(v)
        default: return String(format: "%.4g %@", v, unit)
        }
    }

    /// A row's median in its unit.
    public static func median(_ r: Record?, lang: Language = .en) -> String {
        guard let r else { return "–" }
        return value(r.stats?.median, unit: r.unit, lang: lang)
    }

    /// "low – high" of a row's 95 % CI, in its unit; "–" without statistics.
    public static func ci(_ r: Record?, lang: Language = .en) -> String {
        guard let r, let s = r.stats else { return "–" }
        return "\(value(s.ci95Low, unit: r.unit, lang: lang)) – \(value(s.ci95High, unit: r.unit, lang: lang))"
    }

    /// A factor, three significant digits: "1.23×", "12.3×", "234×", "0.0123×".
    public static func times(_ v: Double) -> String {
        guard v.isFinite else { return "∞" }
        return sig3(v) + "×"
    }

    /// Two significant digits, for ratios of noisy counts (C8's memory): "7.2", "47", "380", "0.83".
    public static func sig2(_ v: Double) -> String {
        guard v.isFinite else { return sig3(v) }
        if v == 0 { return "0" }
        let step = pow(10, floor(log10(abs(v))) - 1)
        let r = (v / step).rounded() * step
        let digits = max(0, 1 - Int(floor(log10(abs(r)))))
        return String(format: "%.\(digits)f", r)
    }

    /// a ÷ b as "1.23×", "n/a" when either is missing or b is not positive.
    public static func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b > 0 else { return "n/a" }
        return times(a / b)
    }

    /// Bytes in B / KiB / MiB / GiB: under 1 KiB in bytes, under 10 KiB with one decimal unless a
    /// whole number of KiB ("797 B", "4.8 KiB", "4 KiB", "260 KiB").
    public static func bytes(_ b: Double) -> String {
        switch abs(b) {
        case ..<1024.0: return String(format: "%.0f B", b)
        case ..<10_240.0 where b.truncatingRemainder(dividingBy: 1024) != 0: return String(format: "%.1f KiB", b / 1024)
        case ..<1_048_576.0: return String(format: "%.0f KiB", b / 1024)
        case ..<1_073_741_824.0: return String(format: "%.1f MiB", b / 1048576)
        default: return String(format: "%.1f GiB", b / 1073741824)
        }
    }

    /// A count per op (switches, faults): "0" for an exact zero, else three decimals or three
    /// significant digits when smaller ("0.000120"), never "0.0000" for a value that is not zero.
    public static func perOp(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "n/a" }
        if v == 0 { return "0" }
        return abs(v) < 0.01 ? sig3(v) : String(format: "%.3f", v)
    }

    /// A number with `places` decimals, "n/a" for nil.
    public static func number(_ v: Double?, _ places: Int = 2) -> String {
        guard let v, v.isFinite else { return "n/a" }
        return String(format: "%.\(places)f", v)
    }

    /// "median [low, high]" with two decimals (ns per page tables).
    public static func bracket(_ s: Statistics?) -> String {
        guard let s else { return "–" }
        return String(format: "%.2f [%.2f, %.2f]", s.median, s.ci95Low, s.ci95High)
    }

    /// yes / **no** for a row's validity.
    public static func valid(_ v: Bool, lang: Language) -> String {
        v ? lang.t("yes", "是") : lang.t("**no**", "**否**")
    }
}

/// The one renderer of the environment fingerprint for people: the line under every table, the
/// machine line of a report, the short line at the foot of a plot. Identifiers (the CPU model,
/// mitigation names) are code spans in Markdown, so they never read as prose in either language.
public enum EnvironmentText {
    /// "_Environment: …_" under a Markdown table.
    public static func line(_ e: Environment, lang: Language) -> String {
        let online = onlineCPUs(e)
        let cpu = "`\(e.cpuModel)`" + (CPUIdentity.describe(e, lang: lang).map { lang.t(" (\($0))", "（\($0)）") } ?? "")
        let parts = lang == .en
            ? [cpu, "\(online) online", "virtualization \(virt(e, lang))", "Linux \(e.kernel)",
               "PCID \(pcid(e, lang: lang))", "THP \(e.thp)", "clocksource \(e.clocksource.isEmpty ? "?" : e.clocksource)",
               "\(e.build) build", "switchbench \(e.suiteVersion) (`\(e.gitCommit)`)"]
            : [cpu, "在线处理器 \(online)", "虚拟化 \(virt(e, lang))", "Linux \(e.kernel)",
               "PCID \(pcid(e, lang: lang))", "THP \(e.thp)", "时钟源 \(e.clocksource.isEmpty ? "?" : e.clocksource)",
               "\(e.build) 构建", "switchbench \(e.suiteVersion)（`\(e.gitCommit)`）"]
        return lang.t("_Environment: ", "_测试环境：") + parts.joined(separator: lang.t(", ", "，")) + lang.t("._", "。_")
    }

    /// The machine in one sentence part: CPU (with its microarchitecture or family/model numbers when
    /// recorded: `CPUIdentity.describe`), how many CPUs were online (virtual CPUs in a guest),
    /// virtualization, kernel, PCID and THP (its mode a code span: an identifier, not prose).
    public static func machine(_ e: Environment, lang: Language) -> String {
        let v = virt(e, lang)
        let silicon = CPUIdentity.describe(e, lang: lang).map { lang.t(" (\($0))", "（\($0)）") } ?? ""
        let guest = e.virtualization != "none" && !e.virtualization.isEmpty
        let cpus = e.onlineCount.map { n in guest ? lang.t("\(n) online vCPUs", "\(n) 个在线虚拟处理器") : lang.t("\(n) online CPUs", "\(n) 个在线处理器") }
            ?? lang.t("online CPUs not recorded", "在线处理器数未记录")
        return lang == .en
            ? """
                `\(e.cpuModel)`\(silicon), \(cpus), \(e.virtualization == "none" ? "bare metal" : v + " guest"), Linux \(e.kernel), PCID \
                \(pcid(e, lang: lang)), THP `\(e.thp)`
                """
            : """
                `\(e.cpuModel)`\(silicon)，\(cpus)，\(e.virtualization == "none" ? "物理机" : v + " 虚拟机")，Linux \(e.kernel)，PCID \(pcid(e, lang: lang))，\
                THP `\(e.thp)`
                """
    }

    /// Mitigations, or that none were reported.
    public static func mitigations(_ e: Environment, lang: Language) -> String {
        e.mitigationSummary.isEmpty ? lang.t("none reported", "未报告") : "`\(e.mitigationSummary)`"
    }

    /// The plot footer: plain text, no Markdown.
    public static func short(_ e: Environment, lang: Language) -> String {
        lang.t("Environment: \(e.cpuModel), \(e.virtualization), THP \(e.thp), Linux \(e.kernel)",
               "测试环境：\(e.cpuModel)，\(e.virtualization)，透明大页 \(e.thp)，Linux \(e.kernel)")
    }

    static func virt(_ e: Environment, _ lang: Language) -> String {
        e.virtualization.isEmpty ? lang.t("unknown", "未知") : e.virtualization
    }

    /// How many CPUs were online, and which when known: "2 (0-1)"; "16" (a CSV written before the
    /// `online_cpu_list` column carries the count only); "?" (not recorded: CSVs written before the
    /// `online_cpus` column). `code`: the list as a code span.
    public static func onlineCPUs(_ e: Environment, code: Bool = false) -> String {
        guard let n = e.onlineCount else { return "?" }
        guard !e.onlineCPUs.isEmpty else { return "\(n)" }
        return code ? "\(n) (`\(e.onlineCPUs)`)" : "\(n) (\(e.onlineCPUs))"
    }

    /// The virtualization as a table cell: "none (bare metal)", "`KVM`", "?" when not recorded.
    public static func virtualization(_ e: Environment, lang: Language) -> String {
        if e.virtualization.isEmpty { return "?" }
        return e.virtualization == "none" ? lang.t("none (bare metal)", "无（物理机）") : "`\(e.virtualization)`"
    }

    /// PCID as a word.
    public static func pcid(_ e: Environment, lang: Language) -> String { e.pcid ? lang.t("on", "开") : lang.t("off", "关") }
}

/// A Markdown table builder: header, rows, pipes escaped.
public struct MarkdownTable {
    public var header: [String]
    public var rows: [[String]] = []
    public init(_ header: [String]) { self.header = header }
    public mutating func add(_ row: [String]) { rows.append(row) }
    public var text: String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n")
    }
}
