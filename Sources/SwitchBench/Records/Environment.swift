import CSwitchBench
import Foundation

/// The environment fingerprint stored with every run: what a reader needs to know to
/// trust or compare the numbers (DESIGN.md, Methodology).
public struct Environment: Sendable, Codable, Equatable {
    public static let suiteVersion = "0.1.0"

    public var suiteVersion: String
    public var gitCommit: String
    public var build: String
    public var host: String
    public var kernel: String
    public var cpuModel: String
    public var onlineCPUs: String
    public var allowedCPUs: String
    public var numaNodes: Int
    /// "none", or "KVM" etc. (hypervisor flag + vendor).
    public var virtualization: String
    /// "name: state" per /sys/devices/system/cpu/vulnerabilities entry.
    public var mitigations: [String]
    public var pcid: Bool
    public var thp: String
    public var clocksource: String
    public var perfEventParanoid: String
    /// Counters that opened here, and those that did not with why (filled by PerfCounters).
    public var countersAvailable: [String]
    public var countersUnavailable: [String]
    public var swiftVersion: String

    public static func read(root: String = "/") -> Environment {
        func file(_ path: String) -> String {
            ((try? String(contentsOfFile: root + path, encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var uts = utsname()
        uname(&uts)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        let cpuinfo = file("proc/cpuinfo")
        let model = cpuinfo.split(separator: "\n")
            .first { $0.hasPrefix("model name") || $0.hasPrefix("Model") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").map(String.init) ?? [])
        let hypervisor = flags.contains("hypervisor")
        var virt = "none"
        if hypervisor {
            virt = Environment.hypervisorVendor(root: root) ?? "unknown hypervisor"
        }
        let vulnDir = root + "sys/devices/system/cpu/vulnerabilities"
        let vulns = ((try? FileManager.default.contentsOfDirectory(atPath: vulnDir)) ?? []).sorted()
            .map { "\($0): \(file("sys/devices/system/cpu/vulnerabilities/\($0)"))" }
        let thpRaw = file("sys/kernel/mm/transparent_hugepage/enabled")
        let thp = thpRaw.split(separator: " ").first { $0.hasPrefix("[") }
            .map { String($0.dropFirst().dropLast()) } ?? (thpRaw.isEmpty ? "unavailable" : thpRaw)
        let nodes = ((try? FileManager.default.contentsOfDirectory(atPath: root + "sys/devices/system/node")) ?? [])
            .filter { $0.hasPrefix("node") && Int($0.dropFirst(4)) != nil }.count
        let counters = PerfCounters.availability()
        return Environment(
            suiteVersion: suiteVersion,
            gitCommit: BuildInfo.gitCommit,
            build: BuildInfo.configuration,
            host: field(uts.nodename),
            kernel: field(uts.release),
            cpuModel: model,
            onlineCPUs: file("sys/devices/system/cpu/online"),
            allowedCPUs: CPUList.format(Affinity.current()),
            numaNodes: max(nodes, 1),
            virtualization: virt,
            mitigations: vulns,
            pcid: flags.contains("pcid"),
            thp: thp,
            clocksource: file("sys/devices/system/clocksource/clocksource0/current_clocksource"),
            perfEventParanoid: file("proc/sys/kernel/perf_event_paranoid"),
            countersAvailable: counters.available,
            countersUnavailable: counters.unavailable,
            swiftVersion: BuildInfo.swiftVersion)
    }

    /// Every fact empty (a run rebuilt from a CSV fills what its columns carry).
    public static let blank = Environment(
        suiteVersion: "", gitCommit: "", build: "", host: "", kernel: "", cpuModel: "", onlineCPUs: "",
        allowedCPUs: "", numaNodes: 1, virtualization: "", mitigations: [], pcid: false, thp: "", clocksource: "",
        perfEventParanoid: "", countersAvailable: [], countersUnavailable: [], swiftVersion: "")

    /// The vendor from /sys/hypervisor/type, DMI, or "KVM" when the kernel logged it.
    static func hypervisorVendor(root: String) -> String? {
        for path in ["sys/hypervisor/type", "sys/class/dmi/id/sys_vendor", "sys/class/dmi/id/product_name"] {
            if let s = try? String(contentsOfFile: root + path, encoding: .utf8) {
                let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
                if !t.isEmpty { return t }
            }
        }
        // No DMI in many microVMs: ask the CPU (hypervisor CPUID leaf), as systemd-detect-virt does.
        guard root == "/" else { return nil }
        var sig = [CChar](repeating: 0, count: 13)
        guard sb_hypervisor_signature(&sig) == 0 else { return nil }
        let s = String(decoding: sig.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch s {
        case "KVMKVMKVM": return "KVM"
        case "Microsoft Hv": return "Hyper-V"
        case "VMwareVMware": return "VMware"
        case "XenVMMXenVMM": return "Xen"
        case "TCGTCGTCGTCG": return "QEMU TCG"
        default: return s.isEmpty ? nil : s
        }
    }

    /// Mitigations in one short cell: entries that are not "Not affected", name and first words.
    public var mitigationSummary: String {
        mitigations.filter { !$0.contains("Not affected") }
            .map { entry -> String in
                let parts = entry.split(separator: ":", maxSplits: 1)
                let state = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
                let short = state.split(separator: ";").first.map(String.init) ?? state
                return "\(parts[0])=\(short)"
            }.joined(separator: "; ")
    }

    /// Key facts as "key: value" lines (switchbench env).
    public var lines: [(String, String)] {
        [("suite_version", suiteVersion), ("git_commit", gitCommit), ("build", build), ("host", host),
         ("kernel", kernel), ("cpu_model", cpuModel), ("online_cpus", onlineCPUs),
         ("allowed_cpus", allowedCPUs), ("numa_nodes", String(numaNodes)),
         ("virtualization", virtualization), ("pcid", pcid ? "yes" : "no"), ("thp", thp),
         ("clocksource", clocksource), ("perf_event_paranoid", perfEventParanoid),
         ("counters_available", countersAvailable.joined(separator: ", ")),
         ("counters_unavailable", countersUnavailable.joined(separator: "; ")),
         ("swift_version", swiftVersion)]
            + mitigations.map { ("mitigation", $0) }
    }
}
