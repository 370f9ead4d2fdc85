/// The identity of one measured case and metric: every parameter that makes two rows different
/// measurements. Records carry one; `compare` matches on it; labels (compare's tables,
/// github-action-benchmark names) and report lookups are made from it, so two rows that differ in
/// anything never share a name.
public struct CaseKey: Hashable, Sendable, Codable {
    public var harness: String
    public var mechanism: String
    /// `same-cpu`, `cross-cpu` or `unpinned`.
    public var placement: String
    /// CPUs the tasks were pinned to, sorted, each once; empty when unpinned. Files and labels write it
    /// taskset style (`cpusText`: "0", "0-1").
    public var cpus: [Int]
    public var tasks: Int
    public var footprintBytes: Int
    public var pageSizeBytes: Int?
    public var workingSetPages: Int?
    /// The case's other parameters (`CaseParameter`), sorted by name; each its own CSV column.
    public var parameters: [CaseParameter]
    public var metric: String

    public init(harness: String, mechanism: String, placement: String, cpus: [Int] = [], tasks: Int = 1,
                footprintBytes: Int = 0, pageSizeBytes: Int? = nil, workingSetPages: Int? = nil,
                parameters: [CaseParameter] = [], metric: String) {
        self.harness = harness
        self.mechanism = mechanism
        self.placement = placement
        self.cpus = Array(Set(cpus)).sorted()
        self.tasks = tasks
        self.footprintBytes = footprintBytes
        self.pageSizeBytes = pageSizeBytes
        self.workingSetPages = workingSetPages
        self.parameters = parameters.sorted()
        self.metric = metric
    }

    /// The same case, another metric (a row derived from this one, or its sibling).
    public func with(metric: String) -> CaseKey {
        var k = self
        k.metric = metric
        return k
    }

    /// A readable name that names every field that is set: "process pipe cross-cpu cpus=0,8 round_trip".
    /// Two keys that differ have different labels (tested).
    public var label: String {
        var s = "\(harness) \(mechanism) \(placement)"
        if !cpus.isEmpty { s += " cpus=\(cpusText)" }
        if tasks != 1 { s += " tasks=\(tasks)" }
        if footprintBytes != 0 { s += " footprint=\(footprintBytes)" }
        if let p = pageSizeBytes { s += " page=\(p)" }
        if let w = workingSetPages { s += " pages=\(w)" }
        for p in parameters { s += " \(p.label)" }
        return s + " \(metric)"
    }

    /// The CSV-column form, `|`-joined in column order (stable text for files and messages).
    public var id: String {
        [harness, mechanism, placement, cpusText, String(tasks), String(footprintBytes),
         pageSizeBytes.map(String.init) ?? "", workingSetPages.map(String.init) ?? "", metric]
            .joined(separator: "|") + parameters.map { "|" + $0.label }.joined()
    }

    private enum CodingKeys: String, CodingKey {
        case harness, mechanism, placement, cpus, tasks, footprintBytes, pageSizeBytes, workingSetPages, parameters, metric
    }

    /// Decodes a key from results.json; one written before `parameters` existed is read as `upgraded`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(harness: try c.decode(String.self, forKey: .harness), mechanism: try c.decode(String.self, forKey: .mechanism),
                  placement: try c.decode(String.self, forKey: .placement), cpus: try Self.decodeCPUs(c),
                  tasks: try c.decode(Int.self, forKey: .tasks), footprintBytes: try c.decode(Int.self, forKey: .footprintBytes),
                  pageSizeBytes: try c.decodeIfPresent(Int.self, forKey: .pageSizeBytes),
                  workingSetPages: try c.decodeIfPresent(Int.self, forKey: .workingSetPages),
                  parameters: try c.decodeIfPresent([CaseParameter].self, forKey: .parameters) ?? [],
                  metric: try c.decode(String.self, forKey: .metric))
        self = upgraded
    }

    /// `cpus` as the CSV and labels write it: a taskset list ("0", "0-1"), empty when unpinned.
    public var cpusText: String { CPUList.format(cpus) }

    /// A results.json key's CPUs: a list, or (files written before) the taskset text.
    private static func decodeCPUs(_ c: KeyedDecodingContainer<CodingKeys>) throws -> [Int] {
        if let list = try? c.decode([Int].self, forKey: .cpus) { return list }
        let text = try c.decode(String.self, forKey: .cpus)
        return text.isEmpty ? [] : try CPUList.parse(text)
    }

    /// The key a row written before case parameters had columns stands for: such runs carried the
    /// parameter in the metric name (events `per_event_k16`, `per_burst_k16`; tlb `reach_l2_pages`,
    /// `reach_l2_bytes`, `miss_l2_extra_ns`; blocking `max_gap_blocking`, `turns_during_read_nonblocking`).
    /// Every other key comes back unchanged.
    public var upgraded: CaseKey {
        guard parameters.isEmpty else { return self }
        var k = self
        func split(_ prefix: String, _ suffix: String, _ name: CaseParameter.Name, as metric: String) -> Bool {
            guard k.metric.hasPrefix(prefix), k.metric.hasSuffix(suffix), k.metric.count > prefix.count + suffix.count,
                  let v = Int(k.metric.dropFirst(prefix.count).dropLast(suffix.count)) else { return false }
            k.metric = metric
            k.parameters = [CaseParameter(name, v)]
            return true
        }
        switch harness {
        case "events":
            _ = split("per_event_k", "", .burst, as: "per_event") || split("per_burst_k", "", .burst, as: "per_burst")
        case "tlb":
            _ = split("reach_l", "_pages", .tlbLevel, as: "reach_pages") || split("reach_l", "_bytes", .tlbLevel, as: "reach_bytes")
                || split("miss_l", "_extra_ns", .tlbLevel, as: "miss_extra_ns")
        case "blocking":
            for metric in BlockingHarness.metrics {
                for mode in BlockingHarness.ReadMode.allCases where k.metric == "\(metric)_\(mode.rawValue)" {
                    k.metric = metric
                    k.parameters = [.readMode(mode)]
                }
            }
        default: break
        }
        return k
    }
}
