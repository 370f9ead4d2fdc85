/// The identity of one measured case and metric: every parameter that makes two rows different
/// measurements. Records carry one; `compare` matches on it; labels (compare's tables,
/// github-action-benchmark names) and report lookups are made from it, so two rows that differ in
/// anything never share a name.
public struct CaseKey: Hashable, Sendable, Codable {
    public var harness: String
    public var mechanism: String
    /// `same-cpu`, `cross-cpu` or `unpinned`.
    public var placement: String
    /// CPUs the tasks were pinned to, taskset style ("0" or "0,1"); empty when unpinned.
    public var cpus: String
    public var tasks: Int
    public var footprintBytes: Int
    public var pageSizeBytes: Int?
    public var workingSetPages: Int?
    public var metric: String

    public init(harness: String, mechanism: String, placement: String, cpus: String = "", tasks: Int = 1,
                footprintBytes: Int = 0, pageSizeBytes: Int? = nil, workingSetPages: Int? = nil, metric: String) {
        self.harness = harness
        self.mechanism = mechanism
        self.placement = placement
        self.cpus = cpus
        self.tasks = tasks
        self.footprintBytes = footprintBytes
        self.pageSizeBytes = pageSizeBytes
        self.workingSetPages = workingSetPages
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
        if !cpus.isEmpty { s += " cpus=\(cpus)" }
        if tasks != 1 { s += " tasks=\(tasks)" }
        if footprintBytes != 0 { s += " footprint=\(footprintBytes)" }
        if let p = pageSizeBytes { s += " page=\(p)" }
        if let w = workingSetPages { s += " pages=\(w)" }
        return s + " \(metric)"
    }

    /// The CSV-column form, `|`-joined in column order (stable text for files and messages).
    public var id: String {
        [harness, mechanism, placement, cpus, String(tasks), String(footprintBytes),
         pageSizeBytes.map(String.init) ?? "", workingSetPages.map(String.init) ?? "", metric]
            .joined(separator: "|")
    }
}
