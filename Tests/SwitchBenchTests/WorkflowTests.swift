import Foundation
import Testing
@testable import SwitchBench

/// The example workflow (.github/workflows/switchbench-regression.yml) parses, has the steps the docs
/// promise, and names only files that the script and the exporters really write.
@Suite struct WorkflowTests {
    static let workflowPath = MachineFixtures.root + "/.github/workflows/switchbench-regression.yml"
    static let scriptPath = MachineFixtures.root + "/scripts/ci-regression.sh"

    /// A structural check that needs no YAML library: spaces only, two-space indentation, the
    /// top-level keys, one job with runs-on and a list of steps each with a name.
    @Test func structure() throws {
        let text = try String(contentsOfFile: Self.workflowPath, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var topKeys: [String] = []
        var stepNames: [String] = []
        var inSteps = false, stepIndent = -1
        var inBlock = -1   // indentation of a `key: |` literal block being skipped
        for (i, line) in lines.enumerated() {
            #expect(!line.contains("\t"), "line \(i + 1): tab")
            let body = line.drop { $0 == " " }
            if body.isEmpty || body.hasPrefix("#") { continue }
            let indent = line.count - body.count
            if inBlock >= 0 { if indent > inBlock { continue } else { inBlock = -1 } }
            #expect(indent % 2 == 0, "line \(i + 1): odd indentation")
            if body.hasSuffix(": |") || body.hasSuffix(": >") { inBlock = indent }
            if indent == 0 { topKeys.append(String(body.prefix { $0 != ":" })) }
            if body == "steps:" { inSteps = true; stepIndent = indent; continue }
            if inSteps && indent <= stepIndent && !body.hasPrefix("- ") { inSteps = false }
            if inSteps, body.hasPrefix("- name: ") { stepNames.append(String(body.dropFirst(8))) }
            if inSteps, body.hasPrefix("- "), !body.hasPrefix("- name: ") {
                Issue.record("line \(i + 1): a step without a name first")
            }
        }
        #expect(topKeys == ["name", "on", "permissions", "jobs"])
        #expect(stepNames.count >= 5)
        #expect(text.contains("runs-on:"))
        for needle in ["swift build -c release", "scripts/ci-regression.sh --require-gate 25%", "$GITHUB_STEP_SUMMARY",
                       "benchmark-action/github-action-benchmark@", "tool: customSmallerIsBetter",
                       "env --machine-id", "results/baselines/"] {
            #expect(text.contains(needle), "workflow lacks \(needle)")
        }
    }

    /// A real YAML parse by python3 with PyYAML (.ci/run installs python3-yaml and requires it): jobs.*.steps
    /// exist and every step has a name and either uses or run. Skipped, saying why, where PyYAML is missing.
    @Test(.enabled(if: PyYAML.enabled, PyYAML.why))
    func parsesAsYAML() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import json, sys, yaml
            d = yaml.safe_load(open(sys.argv[1]))
            print(json.dumps({"jobs": {k: [{"name": s.get("name"), "kind": "uses" if "uses" in s else "run" if "run" in s else None}
                                           for s in j["steps"]] for k, j in d["jobs"].items()},
                              "on": sorted(str(k) for k in (d.get("on") or d.get(True) or {}))}))
            """, Self.workflowPath]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "YAML parse failed: \(errText)")
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let jobs = try #require(json["jobs"] as? [String: [[String: Any]]])
        #expect(!jobs.isEmpty)
        for (_, steps) in jobs {
            #expect(!steps.isEmpty)
            for s in steps {
                #expect(s["name"] is String)
                #expect(s["kind"] is String, "a step with neither uses nor run: \(s)")
            }
        }
        #expect((json["on"] as? [String])?.contains("pull_request") == true)
    }

    /// Every file the workflow reads from the run directory ($OUT) is one the script or switchbench
    /// writes there: the script's `> "$OUT/…"` redirections and --output "$OUT", and RunWriter's list.
    @Test func namesOnlyFilesThatAreWritten() throws {
        let workflow = try String(contentsOfFile: Self.workflowPath, encoding: .utf8)
        let script = try String(contentsOfFile: Self.scriptPath, encoding: .utf8)
        func names(_ text: String, _ pattern: String) throws -> Set<String> {
            let re = try NSRegularExpression(pattern: pattern)
            return Set(re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range(at: 1), in: text).map { String(text[$0]) }
            })
        }
        let named = try names(workflow, #"(?:\$OUT|\$\{\{ env\.OUT \}\}|env\.OUT\)?)/([A-Za-z0-9_.-]+\.[a-z]+)"#)
            .union(try names(workflow, #"'\{0\}/([A-Za-z0-9_.-]+\.[a-z]+)'"#))
        #expect(named.isSuperset(of: ["compare.md", "benchmark-action.json"]), "\(named)")
        let byScript = try names(script, #">\s*"\$OUT/([A-Za-z0-9_.-]+)""#)
        #expect(script.contains(#"--output "$OUT""#), "the run's files land in $OUT")
        let bySwitchbench = Set(RunWriter.files(for: ReportFixture.basic).map(\.name))
        for n in named {
            #expect(byScript.contains(n) || bySwitchbench.contains(n), "\(n) is named by the workflow but nothing writes it")
        }
        // the workflow's OUT and the baseline directory are the script's
        #expect(workflow.contains("OUT: results/runs/"))
        #expect(script.contains("results/baselines/$MACHINE.csv"))
    }
}

extension ProcessSpawningTests {
    /// scripts/ci-regression.sh picks the baseline by the machine id the binary prints (`env --machine-id`,
    /// which names the CPU family and model): an Intel runner finds no AMD baseline, only its own or none.
    @Suite struct CIBaselinePickTests {
        /// Runs the script with a stand-in binary that prints `id` as the machine id and exits 42 when asked to measure.
        func script(id: String) throws -> (status: Int32, stderr: String) {
            let dir = try CompareCLITests.tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let bin = dir + "/switchbench"
            try """
                #!/bin/sh
                case "$1 $2" in
                "env --machine-id") echo "\(id)" ;;
                "list --format") echo '{"switch_kinds": [{"harness": "syscall"}]}' ;;
                *) exit 42 ;;
                esac
                """.write(toFile: bin, atomically: true, encoding: .utf8)
            chmod(bin, 0o755)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [MachineFixtures.root + "/scripts/ci-regression.sh"]
            p.environment = ProcessInfo.processInfo.environment.merging(["BIN": bin, "OUT": dir + "/out", "CONFIRM": "0"]) { $1 }
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let data = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        @Test func theBaselineOfItsOwnSiliconOrNone() throws {
            let dir = MachineFixtures.root + "/results/baselines"
            let committed = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".csv") }.map { String($0.dropLast(4)) }
            // Every committed baseline is named by the silicon its rows record (family and model in the id).
            for name in committed {
                let e = try RunLoader.load("\(dir)/\(name).csv").run.environment
                #expect(!e.cpuFamily.isEmpty && name == e.machineID, "\(name)")
            }
            // an Emerald Rapids and a Sapphire Rapids runner behind one model string: their own ids, no AMD baseline
            for (model, n) in [("207", "6"), ("143", "6")] {
                let id = Environment.machineID(cpuModel: "Intel(R) Xeon(R) Processor", family: n, model: model, onlineCPUCount: 2, virtualization: "KVM")
                guard !committed.contains(id) else { continue }
                let r = try script(id: id)
                #expect(r.status == 2 && r.stderr.contains("no baseline for this machine (\(id))") && r.stderr.contains("record one"), "\(r)")
            }
            // a machine with a committed baseline gets past the check to measuring (the stand-in exits 42 there)
            for id in committed {
                let r = try script(id: id)
                #expect(r.status == 42, "\(id): \(r)")
            }
        }
    }
}
