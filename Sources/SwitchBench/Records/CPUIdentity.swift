import Foundation

/// What identifies the silicon under any hypervisor's model string (docs/csv.md, "The machine columns"):
/// the CPU's vendor, family, model and stepping as /proc/cpuinfo reports them (x86: CPUID leaf 1), and the
/// cache sizes from sysfs. KVM and many clouds print one model string (`Intel(R) Xeon(R) Processor`) for
/// Sapphire Rapids (family 6 model 143) and Emerald Rapids (6/207) guests alike; the numbers tell them
/// apart. The caches tell apart what a hypervisor masks down to a generic family/model, and two SKUs of
/// one generation whose last-level cache differs.
public struct CPUIdentity: Sendable, Equatable {
    public var vendor: String
    public var family: String
    public var model: String
    public var stepping: String
    public var caches: String

    /// "n/a" when this CPU's /proc/cpuinfo has no such line: recorded as absent, unlike "" (not recorded).
    public static let absent = "n/a"

    /// From /proc/cpuinfo's first CPU and /sys/devices/system/cpu/cpu0/cache.
    public static func read(cpuinfo: String, root: String = "/") -> CPUIdentity {
        let first = cpuinfo.components(separatedBy: "\n\n").first ?? ""
        func line(_ key: String) -> String {
            for l in first.split(separator: "\n") {
                let parts = l.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key else { continue }
                let v = parts[1].trimmingCharacters(in: .whitespaces)
                return v.isEmpty ? absent : v
            }
            return absent
        }
        return CPUIdentity(vendor: line("vendor_id"), family: line("cpu family"), model: line("model"),
                           stepping: line("stepping"), caches: caches(root: root))
    }

    /// The caches of CPU 0 as sysfs lists them, "L1d=32K L1i=32K L2=1024K L3=32768K" (level, d/i for
    /// data/instruction, size as the kernel prints it), in level order; "n/a" when sysfs has none.
    public static func caches(root: String) -> String {
        let dir = root + "sys/devices/system/cpu/cpu0/cache"
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("index") }
        func file(_ e: String, _ name: String) -> String {
            ((try? String(contentsOfFile: "\(dir)/\(e)/\(name)", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let items = entries.compactMap { e -> (String, String)? in
            let (level, type, size) = (file(e, "level"), file(e, "type"), file(e, "size"))
            guard !level.isEmpty, !size.isEmpty else { return nil }
            let kind = type == "Data" ? "d" : type == "Instruction" ? "i" : ""
            return ("L\(level)\(kind)", size)
        }.sorted { $0.0 < $1.0 }
        return items.isEmpty ? absent : items.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    /// The microarchitecture a small table knows for (vendor, family, model[, stepping]); nil otherwise
    /// (the page then names the numbers). Sources: Linux arch/x86/include/asm/intel-family.h (Intel
    /// models) and arch/x86/kernel/cpu/amd.c (the Zen generations by family and model range), as
    /// docs/csv.md cites. Numbers are decimal, as /proc/cpuinfo prints them.
    public static func microarchitecture(vendor: String, family: String, model: String, stepping: String = "") -> String? {
        guard let f = Int(family), let m = Int(model) else { return nil }
        switch (vendor, f) {
        case ("GenuineIntel", 6):
            if m == 0x55, let s = Int(stepping) {   // one model number, three server generations by stepping
                return s <= 4 ? "Skylake-SP" : s <= 7 ? "Cascade Lake" : s <= 11 ? "Cooper Lake" : nil
            }
            return intel6[m]
        case ("AuthenticAMD", _), ("HygonGenuine", _):
            return amd[f]?.first { $0.models.contains(m) }?.name
        default:
            return nil
        }
    }

    static let intel6: [Int: String] = [
        0x3F: "Haswell-EP", 0x4F: "Broadwell-EP", 0x56: "Broadwell-DE", 0x6A: "Ice Lake-SP", 0x6C: "Ice Lake-D",
        0x8F: "Sapphire Rapids", 0xCF: "Emerald Rapids", 0xAD: "Granite Rapids", 0xAE: "Granite Rapids-D",
        0xAF: "Sierra Forest", 0x7D: "Ice Lake", 0x7E: "Ice Lake", 0x8C: "Tiger Lake", 0x8D: "Tiger Lake",
        0x97: "Alder Lake", 0x9A: "Alder Lake", 0xB7: "Raptor Lake", 0xBA: "Raptor Lake", 0xBF: "Raptor Lake",
        0xAA: "Meteor Lake", 0xC6: "Arrow Lake",
    ]

    static let amd: [Int: [(models: ClosedRange<Int>, name: String)]] = [
        0x17: [(0x00...0x2F, "Zen / Zen+"), (0x50...0x5F, "Zen / Zen+"), (0x30...0x4F, "Zen 2"), (0x60...0x7F, "Zen 2"),
               (0x90...0x91, "Zen 2"), (0xA0...0xAF, "Zen 2")],
        0x19: [(0x00...0x0F, "Zen 3"), (0x20...0x5F, "Zen 3"), (0x10...0x1F, "Zen 4"), (0x60...0xAF, "Zen 4")],
        0x1A: [(0x00...0x0F, "Zen 5"), (0x20...0x2F, "Zen 5"), (0x40...0x4F, "Zen 5"), (0x70...0x7F, "Zen 5")],
    ]

    /// How a page names the silicon: the microarchitecture (a code span: a name, in both languages) with its
    /// numbers ("`Zen 4`, family 25 model 17 stepping 1"), the numbers alone when the table does not know them, nil when the run did not record them.
    public static func describe(_ e: Environment, lang: Language) -> String? {
        guard !e.cpuFamily.isEmpty, e.cpuFamily != absent else { return nil }
        let numbers = lang.t("family \(e.cpuFamily) model \(e.cpuModelNumber)", "系列 \(e.cpuFamily) 型号 \(e.cpuModelNumber)")
            + (e.cpuStepping.isEmpty || e.cpuStepping == absent ? "" : lang.t(" stepping \(e.cpuStepping)", " 步进 \(e.cpuStepping)"))
        guard let name = microarchitecture(vendor: e.cpuVendor, family: e.cpuFamily, model: e.cpuModelNumber, stepping: e.cpuStepping) else {
            return numbers
        }
        return lang.t("`\(name)`, \(numbers)", "`\(name)`，\(numbers)")
    }
}
