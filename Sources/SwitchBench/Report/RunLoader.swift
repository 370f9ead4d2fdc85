import Foundation

/// Reads a run back from what it wrote: a results.csv, or a run directory that holds one.
/// Used by `compare` and `report`, which work from the CSV alone.
public enum RunLoader {
    /// The CSV file a path names: the path itself, or `<dir>/results.csv`. Throws `.usage`.
    public static func csvPath(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SwitchBenchError.usage("'\(path)' does not exist; expected a results.csv or a run directory holding one")
        }
        if isDir.boolValue {
            let csv = (path as NSString).appendingPathComponent("results.csv")
            guard FileManager.default.fileExists(atPath: csv) else {
                throw SwitchBenchError.usage("directory '\(path)' has no results.csv; expected a run directory (results/runs/<run id>/)")
            }
            return csv
        }
        return path
    }

    /// Loads a CSV (or run directory) into a `RunResult` plus each row's raw fields.
    /// Throws `.usage` for a missing, empty, malformed or row-less file.
    public static func load(_ path: String) throws -> (run: RunResult, fields: [[String: String]]) {
        let file = try csvPath(path)
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SwitchBenchError.usage("cannot read '\(file)': not a readable UTF-8 file")
        }
        return try parse(text, source: file)
    }

    public static func parse(_ text: String, source: String) throws -> (run: RunResult, fields: [[String: String]]) {
        let rows: [(record: Record, fields: [String: String])]
        do {
            rows = try CSVExporter.read(text, source: source)
        } catch SwitchBenchError.usage(let m) where !m.contains(source) {
            throw SwitchBenchError.usage("\(source): \(m)")   // name the file in every message
        }
        guard let first = rows.first else {
            throw SwitchBenchError.usage("\(source) has a header but no rows: nothing was measured")
        }
        let run = RunResult(runID: first.fields["run_id"] ?? "", timestampUTC: first.fields["timestamp_utc"] ?? "",
                            environment: environment(from: first.fields), records: rows.map(\.record))
        return (run, rows.map(\.fields))
    }

    /// The fingerprint as far as the CSV columns carry it (kernel, CPU, online CPU count,
    /// virtualization, build, host, git commit, PCID, THP, mitigations). Facts the CSV does not carry are left empty.
    public static func environment(from f: [String: String]) -> Environment {
        // entries split on ";" but not on "\\;" (a ";" inside one state, `Environment.mitigationsCSV`)
        let mitigations = (f["mitigations"] ?? "").replacingOccurrences(of: "\\;", with: "\u{1F}").split(separator: ";")
            .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\u{1F}", with: ";") }.filter { !$0.isEmpty }
            .map { entry -> String in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? "\(parts[0]): \(parts[1])" : entry
            }
        var e = Environment.blank
        e.suiteVersion = f["suite_version"] ?? ""
        e.gitCommit = f["git_commit"] ?? ""
        e.build = f["build"] ?? ""
        e.host = f["host"] ?? ""
        e.kernel = f["kernel"] ?? ""
        e.cpuModel = f["cpu_model"] ?? ""
        e.virtualization = f["virtualization"] ?? ""
        e.mitigations = mitigations
        e.pcid = f["pcid"] == "yes"
        e.thp = f["thp"] ?? ""
        e.onlineCPUCount = Int(f["online_cpus"] ?? "")   // absent (nil) in CSVs written before the column
        e.onlineCPUs = f["online_cpu_list"] ?? ""
        e.clocksource = f["clocksource"] ?? ""
        // The silicon: "" (not recorded) in CSVs written before these columns.
        (e.cpuVendor, e.cpuFamily, e.cpuModelNumber, e.cpuStepping, e.cpuCaches) =
            (f["cpu_vendor"] ?? "", f["cpu_family"] ?? "", f["cpu_model_number"] ?? "", f["cpu_stepping"] ?? "", f["cpu_caches"] ?? "")
        return e
    }
}
