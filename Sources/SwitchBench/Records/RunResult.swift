import Foundation

/// One run: who/where/when, and every record it produced.
public struct RunResult: Sendable, Codable {
    public var runID: String
    /// ISO 8601, UTC, seconds.
    public var timestampUTC: String
    public var environment: Environment
    public var records: [Record]
    /// Cases that failed, "label: message".
    public var failures: [String]
    /// Cases not run because this machine (or --cpus/taskset) cannot honour their placement: one line
    /// per reason, naming the cases (e.g. cross-cpu with one allowed CPU).
    public var skipped: [String]
    /// Wall time of the cases, seconds (the CLI sets it); nil for runs written before it existed and
    /// runs put together from CSVs.
    public var durationSeconds: Double?

    public init(runID: String, timestampUTC: String, environment: Environment, records: [Record] = [], failures: [String] = [],
                skipped: [String] = []) {
        self.runID = runID
        self.timestampUTC = timestampUTC
        self.environment = environment
        self.records = records
        self.failures = failures
        self.skipped = skipped
    }

    enum CodingKeys: String, CodingKey { case runID, timestampUTC, environment, records, failures, skipped, durationSeconds }

    /// `skipped` is absent from results.json files written before it existed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(runID: try c.decode(String.self, forKey: .runID), timestampUTC: try c.decode(String.self, forKey: .timestampUTC),
                  environment: try c.decode(Environment.self, forKey: .environment),
                  records: try c.decode([Record].self, forKey: .records), failures: try c.decode([String].self, forKey: .failures),
                  skipped: try c.decodeIfPresent([String].self, forKey: .skipped) ?? [])
        durationSeconds = try c.decodeIfPresent(Double.self, forKey: .durationSeconds)
    }

    /// A new run stamped now: run id `<UTC yyyymmddThhmmssZ>-<host>`.
    public static func start(environment: Environment, now: Date = Date()) -> RunResult {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        let compact = DateFormatter()
        compact.locale = Locale(identifier: "en_US_POSIX")
        compact.timeZone = TimeZone(identifier: "UTC")
        compact.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return RunResult(runID: "\(compact.string(from: now))-\(environment.host)",
                         timestampUTC: iso.string(from: now), environment: environment)
    }

    public func records(harness: String) -> [Record] { records.filter { $0.harness == harness } }

    /// The one row finder (every section, verdict, table and plot looks rows up here, so a section and
    /// its verdict cannot pick different rows for one idea). One rule: the row of this case — harness,
    /// mechanism, metric and placement exactly; `tasks` exactly when given, otherwise the case's smallest
    /// (at most two: the two-task ring, the one-task call); `footprint` bytes touched (default none);
    /// `pages` exactly when given — that has statistics. nil when the run did not measure it.
    public func row(_ harness: String, _ mechanism: String, _ metric: String, placement: Placement = .sameCPU,
                    tasks: Int? = nil, footprint: Int = 0, pages: Int? = nil) -> Record? {
        records.first { (r: Record) -> Bool in
            guard r.harness == harness, r.mechanism == mechanism, r.metric == metric, r.placement == placement.rawValue,
                  r.footprintBytes == footprint, r.stats != nil else { return false }
            if let tasks, r.tasks != tasks { return false }
            if tasks == nil, r.tasks > 2 { return false }
            if let pages, r.workingSetPages != pages { return false }
            return true
        }
    }
}
