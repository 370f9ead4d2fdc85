import CSwitchBench
import Foundation

/// The environment fingerprint stored with every run: what a reader needs to know to
/// trust or compare the numbers (docs/methodology.md).
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
    /// How many CPUs were online (the count of `onlineCPUs`); the CSV's `online_cpus` column. nil when
    /// a run did not record it (CSVs written before the column existed).
    public var onlineCPUCount: Int? = nil
    /// The silicon, whatever the hypervisor calls the model (docs/csv.md, "The machine columns"): what
    /// /proc/cpuinfo says of the first CPU. `vendor_id` ("GenuineIntel", "AuthenticAMD"), `cpu family`,
    /// `model`, `stepping` as decimal text, and the cache sizes from sysfs (`CPUIdentity.caches`). Each is
    /// "" when a run did not record it (CSVs written before these columns) and "n/a" when this CPU's
    /// /proc/cpuinfo has no such line (ARM has no family or stepping).
    public var cpuVendor: String = ""
    public var cpuFamily: String = ""
    public var cpuModelNumber: String = ""
    public var cpuStepping: String = ""
    public var cpuCaches: String = ""

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
        let id = CPUIdentity.read(cpuinfo: cpuinfo, root: root)
        var e = Environment(
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
            swiftVersion: BuildInfo.swiftVersion,
            onlineCPUCount: (try? CPUList.parse(file("sys/devices/system/cpu/online")))?.count ?? Affinity.current().count)
        (e.cpuVendor, e.cpuFamily, e.cpuModelNumber, e.cpuStepping, e.cpuCaches) = (id.vendor, id.family, id.model, id.stepping, id.caches)
        return e
    }

    /// This machine's name for per-machine files (CI baselines: results/baselines/<machine id>.csv):
    /// the CPU model, its family and model numbers, the online CPU count and the virtualization, as a
    /// lowercase slug, e.g. "intel-xeon-6-207-2cpu-kvm", "amd-epyc-25-17-2cpu-kvm". Never the host name (two
    /// different machines are both called `vm`). Made only of facts every CSV row carries, so a run's
    /// machine can be named from its results.csv as well.
    public var machineID: String {
        Self.machineID(cpuModel: cpuModel, family: cpuFamily, model: cpuModelNumber, onlineCPUCount: onlineCPUCount,
                       virtualization: virtualization)
    }

    /// The derivation of `machineID`: the CPU model without "(R)", "(TM)", the words "CPU" and
    /// "Processor" and anything from "@" (the nominal clock) on; then "<family>-<model>" (left out when not
    /// recorded or "n/a": the model string alone cannot tell Sapphire from Emerald Rapids under KVM); then
    /// "<n>cpu" (online CPUs; left out when unknown); then the virtualization ("none" → "metal"). Each part
    /// lowercased, every run of characters other than a–z and 0–9 turned into one "-"; at most 80 characters.
    /// Stepping and caches are machine facts (`machineColumns`) but not part of the id: a baseline found by
    /// the id whose stepping or caches differ is refused by `compare` (exit 3), not silently used.
    public static func machineID(cpuModel: String, family: String = "", model: String = "", onlineCPUCount: Int?,
                                 virtualization: String) -> String {
        func slug(_ s: String) -> String {
            var out = ""
            for ch in s.lowercased() {
                if ch.isASCII && (ch.isLetter || ch.isNumber) { out.append(ch) } else if !out.isEmpty && out.last != "-" { out.append("-") }
            }
            while out.hasSuffix("-") { out.removeLast() }
            return out
        }
        var name = cpuModel
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        for mark in ["(R)", "(r)", "(TM)", "(tm)", "(C)", "(c)"] { name = name.replacingOccurrences(of: mark, with: " ") }
        let words = name.split(separator: " ").filter { !["cpu", "processor"].contains($0.lowercased()) }
        var modelSlug = slug(words.joined(separator: " "))
        if modelSlug.isEmpty || modelSlug == "unknown" { modelSlug = "unknown-cpu" }
        var parts = [String(modelSlug.prefix(48))]
        while parts[0].hasSuffix("-") { parts[0].removeLast() }
        let numbers = [family, model].map { slug($0) }
        if numbers.allSatisfy({ !$0.isEmpty && $0 != "n-a" }) { parts.append(numbers.map { String($0.prefix(6)) }.joined(separator: "-")) }
        if let n = onlineCPUCount { parts.append("\(n)cpu") }
        let v = slug(virtualization)
        var virt = v.isEmpty ? "unknown-virt" : v == "none" ? "metal" : String(v.prefix(24))
        while virt.hasSuffix("-") { virt.removeLast() }
        parts.append(virt)
        return String(parts.joined(separator: "-").prefix(80))
    }

    /// How many CPUs were online: the recorded count, else the count of `onlineCPUs`; nil when neither
    /// was recorded (CSVs written before the `online_cpus` column).
    public var onlineCount: Int? {
        onlineCPUCount ?? (onlineCPUs.isEmpty ? nil : (try? CPUList.parse(onlineCPUs)).map(\.count))
    }

    // MARK: the same machine

    /// The CSV columns that name a machine: the CPU as the hypervisor names it, the silicon (vendor, family,
    /// model, stepping, caches: `CPUIdentity`), the online CPU count and the virtualization. Two runs that
    /// differ in one of them measured different hardware. This is the one definition of "same machine":
    /// `compare` calls two runs that differ here not comparable (exit 3), and machines.md gives them
    /// different machine numbers. Kernel, PCID, THP, mitigations and build are not part of it: a kernel
    /// upgrade is the same machine (compare gates it, with a warning; machines.md shows it as another run of
    /// that machine, M1a/M1b).
    public static let machineColumns = ["cpu_model", "cpu_vendor", "cpu_family", "cpu_model_number", "cpu_stepping",
                                        "cpu_caches", "online_cpus", "virtualization"]

    /// Whether a fingerprint column differs between two runs, given its values. A value one run did not
    /// record ("", a CSV written before the column) is unknown, not the same: it differs from any recorded
    /// value. Two runs that both lack it are told apart by the other columns (`Comparison.EnvironmentChange.text`
    /// says "not recorded").
    public static func differs(_ column: String, _ a: String, _ b: String) -> Bool { a != b }

    /// The machine columns' values of this environment, exactly as its CSV rows carry them (the recorded
    /// count, as `machineID` uses it).
    public var machineFacts: [String: String] {
        ["cpu_model": cpuModel, "cpu_vendor": cpuVendor, "cpu_family": cpuFamily, "cpu_model_number": cpuModelNumber,
         "cpu_stepping": cpuStepping, "cpu_caches": cpuCaches,
         "online_cpus": onlineCPUCount.map(String.init) ?? "", "virtualization": virtualization]
    }

    /// Same machine as another run (`machineColumns`, compared by `differs`).
    public func sameMachine(as other: Environment) -> Bool {
        let (a, b) = (machineFacts, other.machineFacts)
        return !Self.machineColumns.contains { Self.differs($0, a[$0] ?? "", b[$0] ?? "") }
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
    /// Every mitigation line in full for the CSV's `mitigations` column: "name=state" joined by "; ",
    /// a ";" inside a state written "\\;" so that a state with several parts ("…IBRS; BHI: Vulnerable")
    /// comes back whole (`RunLoader.environment`).
    public var mitigationsCSV: String {
        mitigations.filter { !Self.notAffected($0) }
            .map { entry -> String in
                let parts = entry.split(separator: ":", maxSplits: 1)
                let state = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
                return "\(parts[0])=" + state.replacingOccurrences(of: ";", with: "\\;")
            }.joined(separator: "; ")
    }

    /// Whether a mitigation line ("name: state") says the CPU is not affected. Its state, not the line:
    /// spectre_v2's state can be "Mitigation: Retpolines; …; BHI: Not affected" and is in force.
    static func notAffected(_ entry: String) -> Bool {
        let parts = entry.split(separator: ":", maxSplits: 1)
        return (parts.count > 1 ? parts[1] : parts[0]).trimmingCharacters(in: .whitespaces).hasPrefix("Not affected")
    }

    public var mitigationSummary: String {
        mitigations.filter { !Self.notAffected($0) }
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
         ("machine_id", machineID),
         ("kernel", kernel), ("cpu_model", cpuModel), ("cpu_vendor", cpuVendor), ("cpu_family", cpuFamily),
         ("cpu_model_number", cpuModelNumber), ("cpu_stepping", cpuStepping), ("cpu_caches", cpuCaches),
         ("microarchitecture", CPUIdentity.microarchitecture(vendor: cpuVendor, family: cpuFamily, model: cpuModelNumber, stepping: cpuStepping) ?? "unknown"),
         ("online_cpus", onlineCPUs),
         ("allowed_cpus", allowedCPUs), ("numa_nodes", String(numaNodes)),
         ("virtualization", virtualization), ("pcid", pcid ? "yes" : "no"), ("thp", thp),
         ("clocksource", clocksource), ("perf_event_paranoid", perfEventParanoid),
         ("counters_available", countersAvailable.joined(separator: ", ")),
         ("counters_unavailable", countersUnavailable.joined(separator: "; ")),
         ("swift_version", swiftVersion)]
            + mitigations.map { ("mitigation", $0) }
    }
}

extension Environment {
    /// Decodes a results.json; the silicon facts (and the CPU count) are absent from files written before
    /// them and load as not recorded ("").
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func s(_ k: CodingKeys) throws -> String { try c.decode(String.self, forKey: k) }
        self.init(suiteVersion: try s(.suiteVersion), gitCommit: try s(.gitCommit), build: try s(.build), host: try s(.host),
                  kernel: try s(.kernel), cpuModel: try s(.cpuModel), onlineCPUs: try s(.onlineCPUs), allowedCPUs: try s(.allowedCPUs),
                  numaNodes: try c.decode(Int.self, forKey: .numaNodes), virtualization: try s(.virtualization),
                  mitigations: try c.decode([String].self, forKey: .mitigations), pcid: try c.decode(Bool.self, forKey: .pcid),
                  thp: try s(.thp), clocksource: try s(.clocksource), perfEventParanoid: try s(.perfEventParanoid),
                  countersAvailable: try c.decode([String].self, forKey: .countersAvailable),
                  countersUnavailable: try c.decode([String].self, forKey: .countersUnavailable), swiftVersion: try s(.swiftVersion),
                  onlineCPUCount: try c.decodeIfPresent(Int.self, forKey: .onlineCPUCount))
        func opt(_ k: CodingKeys) throws -> String { try c.decodeIfPresent(String.self, forKey: k) ?? "" }
        (cpuVendor, cpuFamily, cpuModelNumber, cpuStepping, cpuCaches) =
            (try opt(.cpuVendor), try opt(.cpuFamily), try opt(.cpuModelNumber), try opt(.cpuStepping), try opt(.cpuCaches))
    }
}
