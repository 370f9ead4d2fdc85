import Foundation
import Testing
@testable import SwitchBench

/// Per-machine facts: which placements the allowed CPUs can honour, the machine id that names a CI
/// baseline, the online CPU count in the CSV, and compare across machines (exit 3 unless asked).
enum MachineFixtures {
    /// The repository root, from this file's path (Tests/SwitchBenchTests/<file>).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// Unedited results.csv files of two other machines (switchbench 0.1.0, before online_cpus existed).
    static let xeon16 = root + "/Tests/SwitchBenchTests/Fixtures/runs/xeon-16vcpu-kvm/results.csv"
    static let epyc2 = root + "/Tests/SwitchBenchTests/Fixtures/runs/epyc-2vcpu-kvm/results.csv"

    /// A synthetic run whose environment differs from ReportFixture's in the given ways.
    static func run(_ records: [Record], cpuModel: String = "Test CPU", online: Int? = 2, kernel: String = "6.1.0-test") -> RunResult {
        var r = ReportFixture.run(records, kernel: kernel)
        r.environment.cpuModel = cpuModel
        r.environment.onlineCPUCount = online
        return r
    }

    /// ReportFixture.basic with the process round trip 30 % slower: one clear regression.
    static var slowerRecords: [Record] {
        var records = ReportFixture.basic.records
        let i = records.firstIndex { $0.harness == "process" && $0.metric == "round_trip" }!
        records[i] = ReportFixture.record("process", "pipe", metric: "round_trip", 5000 * 1.3)
        return records
    }
}

/// A harness that measures nothing: one row per case it is asked to run, so a test sees which ran.
struct PlacementProbeHarness: Harness {
    let info = HarnessInfo("probe", claims: [], summary: "test only", mechanisms: [("m", "test")])
    var placements: [Placement] { [.sameCPU, .crossCPU, .unpinned] }
    func plan(_ options: RunOptions) -> [CaseSpec] {
        selectedPlacements(options).map { CaseSpec(harness: id, mechanism: "m", placement: $0, tasks: 2) }
    }
    func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let cpus = context.cpus(for: spec.placement, tasks: spec.tasks).cpus
        return [Record(harness: id, mechanism: "m", placement: spec.placement.rawValue, cpus: CPUList.format(cpus), tasks: 2,
                       metric: "x", samples: [1, 2, 3], opsPerSample: 1)]
    }
}

@Suite struct PlacementHonouredTests {
    static func context(allowed: [Int]) -> RunContext {
        RunContext(options: RunOptions(), environment: ReportFixture.environment(), allowedCPUs: allowed,
                   topology: Topology(cpus: [:]))
    }

    @Test func crossCPUNeedsTwoDistinctCPUs() {
        let one = Self.context(allowed: [0])
        #expect(one.unhonourable(.crossCPU)?.contains("cross-cpu needs at least 2 distinct CPUs") == true)
        #expect(one.unhonourable(.sameCPU) == nil)
        #expect(one.unhonourable(.unpinned) == nil)
        #expect(Self.context(allowed: [0, 1]).unhonourable(.crossCPU) == nil)
        #expect(Self.context(allowed: [3, 5]).unhonourable(.crossCPU) == nil)
    }

    @Test func runnerSkipsWhatCannotBeHonouredWithOneLine() {
        var result = RunResult.start(environment: ReportFixture.environment())
        var lines: [String] = []
        Runner(context: Self.context(allowed: [0]), progress: { lines.append($0) }).run([PlacementProbeHarness()], into: &result)
        #expect(Set(result.records.map(\.placement)) == ["same-cpu", "unpinned"])
        #expect(result.skipped.count == 1)
        #expect(result.skipped.first?.contains("probe m cross-cpu") == true)
        #expect(lines.filter { $0.contains("skipped") }.count == 1)
        let md = MarkdownExporter.render(result)
        #expect(md.split(separator: "\n").filter { $0.contains("Not measured") && $0.contains("cross-cpu") }.count == 1)
        // and on two CPUs nothing is skipped
        var two = RunResult.start(environment: ReportFixture.environment())
        Runner(context: Self.context(allowed: [0, 1])).run([PlacementProbeHarness()], into: &two)
        #expect(two.skipped.isEmpty)
        #expect(two.records.contains { $0.placement == "cross-cpu" && $0.cpus == "0-1" })
        #expect(!MarkdownExporter.render(two).contains("Not measured"))
    }

    /// The ring itself refuses a cross-cpu assignment on one CPU (last line of defence).
    @Test func ringRefusesOneCPUCrossAssignment() {
        let ctx = Self.context(allowed: [0])
        let spec = CaseSpec(harness: "thread", mechanism: "futex", placement: .crossCPU, tasks: 2)
        #expect(throws: SwitchBenchError.self) {
            _ = try TokenRingHarness(kind: .thread).run(spec, context: ctx)
        }
    }

    @Test func skippedSurvivesJSONAndOldJSONLoads() throws {
        var run = ReportFixture.basic
        run.skipped = ["skipped 1 case(s) (x): why"]
        #expect(try JSONExporter.decode(JSONExporter.render(run)).skipped == run.skipped)
        // results.json written before `skipped` existed
        var old = try #require(try JSONSerialization.jsonObject(with: Data(JSONExporter.render(ReportFixture.basic).utf8)) as? [String: Any])
        old.removeValue(forKey: "skipped")
        let text = String(decoding: try JSONSerialization.data(withJSONObject: old), as: UTF8.self)
        #expect(try JSONExporter.decode(text).skipped == [])
    }
}

@Suite struct MachineIDTests {
    @Test(arguments: [
        ("Intel(R) Xeon(R) Processor", 2, "KVM", "intel-xeon-2cpu-kvm"),
        ("AMD EPYC", 2, "KVM", "amd-epyc-2cpu-kvm"),
        ("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", 12, "none", "intel-core-i7-8700k-12cpu-metal"),
        ("AMD EPYC 7B13 64-Core Processor", 16, "Microsoft Corporation", "amd-epyc-7b13-64-core-16cpu-microsoft-corporation"),
        ("", 4, "", "unknown-cpu-4cpu-unknown-virt"),
    ])
    func derivation(model: String, count: Int, virt: String, expected: String) {
        #expect(Environment.machineID(cpuModel: model, onlineCPUCount: count, virtualization: virt) == expected)
    }

    @Test func safeSlugNeverTheHost() {
        var env = ReportFixture.environment()
        env.host = "build-host-42"
        env.cpuModel = "Weird/CPU \"x\" ../../etc"
        env.onlineCPUCount = 8
        let id = env.machineID
        #expect(!id.contains("build-host"))
        #expect(id.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }, "\(id)")
        #expect(!id.hasPrefix("-") && !id.hasSuffix("-") && !id.contains("--") && id.count <= 80)
        #expect(id == "weird-cpu-x-etc-8cpu-kvm")
    }

    @Test func thisMachineHasAnID() {
        let env = Environment.read()
        let n = try? #require(env.onlineCPUCount)
        #expect(env.machineID.contains("-\(n ?? -1)cpu-"))
        #expect(env.lines.contains { $0.0 == "machine_id" && $0.1 == env.machineID })
    }

    /// The committed CI baselines are named by the machine they were made on, as derived from their
    /// own rows (the count is left out of the check when a baseline predates the online_cpus column).
    @Test func committedBaselinesAreNamedByTheirMachine() throws {
        let dir = MachineFixtures.root + "/results/baselines"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".csv") }
        #expect(!files.isEmpty)
        for f in files {
            let (run, fields) = try RunLoader.load(dir + "/" + f)
            #expect(Set(fields.map { $0["cpu_model"] ?? "" }).count == 1, "\(f): one machine per baseline")
            let e = run.environment
            let name = String(f.dropLast(4))
            if e.onlineCPUCount != nil {
                #expect(name == e.machineID, "\(f)")
            } else {
                let model = Environment.machineID(cpuModel: e.cpuModel, onlineCPUCount: nil, virtualization: e.virtualization)
                let virt = model.split(separator: "-").last.map(String.init) ?? ""
                #expect(name.hasPrefix(String(model.dropLast(virt.count + 1)) + "-") && name.hasSuffix("cpu-" + virt), "\(f)")
            }
        }
    }
}

@Suite struct OnlineCPUsColumnTests {
    @Test func appendedAfterSampleValuesAndRoundTrips() throws {
        // The first column appended after the contract's extras (docs/csv.md gives the order).
        #expect(CSVExporter.columns.firstIndex(of: "online_cpus")! == CSVExporter.columns.firstIndex(of: "sample_values")! + 1)
        var run = ReportFixture.basic
        run.environment.onlineCPUCount = 16
        let loaded = try RunLoader.parse(CSVExporter.render(run), source: "t.csv")
        #expect(loaded.run.environment.onlineCPUCount == 16)
        #expect(loaded.fields.allSatisfy { $0["online_cpus"] == "16" })
    }

    @Test func realRunsWithoutTheColumnLoad() throws {
        for path in [MachineFixtures.xeon16, MachineFixtures.epyc2] {
            let (run, fields) = try RunLoader.load(path)
            #expect(!run.records.isEmpty)
            #expect(fields.first?["online_cpus"] == nil)
            #expect(run.environment.onlineCPUCount == nil)
            #expect(run.environment.host == "vm")   // both hosts are called vm: the host name tells nothing
        }
    }
}

@Suite struct CompareAcrossMachinesTests {
    func compare(_ a: RunResult, _ b: RunResult, across: Bool = false) throws -> Comparison {
        try Comparison.make(baseline: ReportFixture.loaded(a), baselineSource: "a", current: ReportFixture.loaded(b),
                            currentSource: "b", acrossMachines: across)
    }

    @Test func anotherCPUModelIsNotComparable() throws {
        let base = MachineFixtures.run(ReportFixture.basic.records, cpuModel: "Intel(R) Xeon(R) Processor")
        let cur = MachineFixtures.run(MachineFixtures.slowerRecords, cpuModel: "AMD EPYC")
        let c = try compare(base, cur)
        #expect(!c.comparable)
        #expect(c.exitCode == 3)
        #expect(c.machineChanges.map(\.fact) == ["cpu_model"])
        #expect(c.warnings.first?.hasPrefix("NOT COMPARABLE") == true)
        #expect(c.summaryLine.hasPrefix("not comparable"))
        let md = c.markdown()
        #expect(md.contains("NOT COMPARABLE") && md.contains("| class |"), "the table and the difference are printed")
        // with the flag: gated as today
        let g = try compare(base, cur, across: true)
        #expect(g.exitCode == 1)
        #expect(g.regressions.count == 1)
        #expect(g.warnings.first?.hasPrefix("DIFFERENT MACHINES") == true)
    }

    @Test func anotherOnlineCPUCountIsNotComparableButUnknownIsNoDifference() throws {
        let records = MachineFixtures.slowerRecords
        #expect(try compare(MachineFixtures.run(ReportFixture.basic.records, online: 16), MachineFixtures.run(records, online: 2)).exitCode == 3)
        #expect(try compare(MachineFixtures.run(ReportFixture.basic.records, online: nil), MachineFixtures.run(records, online: 2)).exitCode == 1)
        #expect(try compare(MachineFixtures.run(ReportFixture.basic.records, online: 2), MachineFixtures.run(records, online: 2)).exitCode == 1)
    }

    @Test func kernelOnlyStillGatesWithTheWarning() throws {
        let c = try compare(MachineFixtures.run(ReportFixture.basic.records, kernel: "6.8.0-old"),
                            MachineFixtures.run(MachineFixtures.slowerRecords, kernel: "6.18.0-new"))
        #expect(c.comparable)
        #expect(c.exitCode == 1)
        #expect(c.regressions.count == 1)
        #expect(c.warnings.first?.contains("ENVIRONMENT DIFFERS") == true && c.warnings.first?.contains("kernel") == true)
    }

    /// The two real runs (Intel Xeon 16 vCPUs, AMD EPYC 2 vCPUs): not comparable, nothing gated.
    @Test func realRunsOfTwoMachines() throws {
        let x = try RunLoader.load(MachineFixtures.xeon16), e = try RunLoader.load(MachineFixtures.epyc2)
        let c = try Comparison.make(baseline: x, baselineSource: "xeon", current: e, currentSource: "epyc")
        #expect(c.exitCode == 3)
        #expect(c.machineChanges.map(\.fact) == ["cpu_model"])
        let g = try Comparison.make(baseline: x, baselineSource: "xeon", current: e, currentSource: "epyc", acrossMachines: true)
        #expect(g.exitCode == (g.regressions.isEmpty ? 0 : 1))
        #expect(!g.regressions.isEmpty, "a 16-vCPU Xeon and a 2-vCPU EPYC differ: gated anyway, something regresses")
    }
}

/// The CLI as a user meets these rules: exit codes, one line, nothing measured or written.
extension ProcessSpawningTests {
@Suite struct MachinesCLITests {
    @Test func explicitCrossCPUOnOneCPUIsExitTwo() throws {
        let dir = CLITests.tempDir()
        let (r, _) = try CLITests.run(["run", "process", "--cpus", "0", "--placement", "cross-cpu", "--output", dir])
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("switchbench: error: --placement cross-cpu cannot be honoured"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing written")
    }

    @Test func runWithoutPlacementOnOneCPUSkipsCrossCPU() throws {
        let dir = CLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, _) = try CLITests.run(["run", "thread", "--cpus", "0", "--mechanism", "futex", "--quick", "--samples", "3",
                                       "--format", "csv", "--output", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOfFile: dir + "/results.csv", encoding: .utf8)
        #expect(!csv.contains(",cross-cpu,"))
        #expect(csv.contains(",same-cpu,"))
        #expect(r.stderr.split(separator: "\n").filter { $0.contains("skipped") && $0.contains("cross-cpu") }.count == 1, "\(r.stderr)")
        let md = try String(contentsOfFile: dir + "/results.md", encoding: .utf8)
        #expect(md.split(separator: "\n").filter { $0.contains("Not measured") }.count == 1)
    }

    /// An output directory that cannot be written is found before the first case: exit 2, one line.
    @Test(arguments: ["/proc/switchbench-x", "/proc/self", "FILE", "FILE/sub"])
    func unwritableOutputFailsBeforeMeasuring(output: String) throws {
        let dir = CLITests.tempDir()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "not a directory".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        let out = output.replacingOccurrences(of: "FILE", with: dir + "/file")
        let (r, _) = try CLITests.run(["run", "process", "--mechanism", "pipe", "--quick", "--output", out])
        #expect(r.status == 2, "\(output): \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("switchbench: error: "), "\(output): nothing measured first: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func envPrintsTheMachineID() throws {
        let (r, _) = try CLITests.run(["env", "--machine-id"])
        #expect(r.status == 0)
        #expect(r.stdout == Environment.read().machineID + "\n")
    }

    @Test func compareAcrossMachinesExitsThreeUnlessAsked() throws {
        let dir = try CompareCLITests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CSVExporter.render(MachineFixtures.run(ReportFixture.basic.records, cpuModel: "Intel(R) Xeon(R) Processor"))
            .write(toFile: dir + "/a.csv", atomically: true, encoding: .utf8)
        try CSVExporter.render(MachineFixtures.run(MachineFixtures.slowerRecords, cpuModel: "AMD EPYC"))
            .write(toFile: dir + "/b.csv", atomically: true, encoding: .utf8)
        let (r, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv"])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stdout.contains("NOT COMPARABLE") && r.stdout.contains("| class |"))
        #expect(r.stderr.contains("cpu_model"))
        let (g, _) = try CLITests.run(["compare", dir + "/a.csv", dir + "/b.csv", "--across-machines"])
        #expect(g.status == 1, "\(g.stderr)")
    }
}
}

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
