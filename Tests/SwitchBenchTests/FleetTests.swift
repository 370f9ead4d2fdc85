import Foundation
import Testing
@testable import SwitchBench

/// YAML read by python3 with PyYAML (.ci/run installs python3-yaml and sets SB_REQUIRE_PYYAML=1). Where it
/// is missing the tests that need it are skipped with that reason shown, unless SB_REQUIRE_PYYAML=1: then
/// they run and fail, so CI never passes without parsing the YAML.
enum PyYAML {
    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import yaml"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()
    static let required = ProcessInfo.processInfo.environment["SB_REQUIRE_PYYAML"] == "1"
    static let enabled = available || required
    static let why: Comment = "python3 with PyYAML is not installed (apt-get install python3-yaml): YAML not parsed, test skipped"

    /// The YAML file as JSON values (dictionaries, arrays, strings, numbers, booleans; YAML's `on` key reads
    /// as "True"), or an issue recorded and nil.
    static func load(_ path: String) -> Any? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])), default=str))", path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch {
            Issue.record("python3 does not start: \(error)")
            return nil
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            Issue.record("\(path) does not parse as YAML (or PyYAML is missing): \(errText)")
            return nil
        }
        return try? JSONSerialization.jsonObject(with: data)
    }
}

/// fleet/: the playbook, its task file, the example inventory and the GitHub Actions matrix example parse,
/// and hold together (the names one part writes are the names another reads). The playbook itself runs
/// for real in fleet/test-fleet.sh (.ci/run): sshd on a loopback port, an unreachable host, a failed pre-check.
@Suite struct FleetTests {
    static let dir = MachineFixtures.root + "/fleet"

    typealias Object = [String: Any]
    static func steps(_ job: Object) -> [Object] { job["steps"] as? [Object] ?? [] }
    static func with(_ step: Object) -> Object { step["with"] as? Object ?? [:] }
    static func uses(_ step: Object, _ action: String) -> Bool { (step["uses"] as? String)?.hasPrefix(action + "@") == true }

    @Test(.enabled(if: PyYAML.enabled, PyYAML.why))
    func matrixWorkflowHoldsTogether() throws {
        let wf = try #require(PyYAML.load(Self.dir + "/github-matrix.yml") as? Object)
        let jobs = try #require(wf["jobs"] as? [String: Object])
        #expect(Set(jobs.keys) == ["build", "measure", "report"])
        let build = try #require(jobs["build"]), measure = try #require(jobs["measure"]), report = try #require(jobs["report"])
        for (name, job) in jobs {
            for s in Self.steps(job) {
                #expect(s["name"] is String, "\(name): a step without a name")
                #expect((s["uses"] is String) != (s["run"] is String), "\(name): a step needs exactly one of uses, run: \(s)")
            }
        }
        func include(_ job: Object) -> [Object] { ((job["strategy"] as? Object)?["matrix"] as? Object)?["include"] as? [Object] ?? [] }

        // build: one binary per architecture, by build-static.sh (the commit goes in), uploaded per arch
        let arches = Set(include(build).compactMap { $0["arch"] as? String })
        #expect(arches.contains("x86_64"))
        #expect(Self.steps(build).contains { ($0["run"] as? String)?.contains("scripts/build-static.sh") == true })
        let binUpload = try #require(Self.steps(build).first { Self.uses($0, "actions/upload-artifact") })
        #expect(Self.with(binUpload)["name"] as? String == "switchbench-${{ matrix.arch }}")

        // measure: several runner images, each with a built architecture, each uploading its run
        let images = include(measure).compactMap { $0["image"] as? String }
        #expect(Set(images).count >= 2 && Set(images).count == images.count, "\(images)")
        for row in include(measure) { #expect(arches.contains(row["arch"] as? String ?? "?"), "no binary built for \(row)") }
        #expect(measure["runs-on"] as? String == "${{ matrix.image }}")
        #expect((measure["strategy"] as? Object)?["fail-fast"] as? Bool == false)
        #expect(measure["needs"] as? String == "build")
        let binDownload = try #require(Self.steps(measure).first { Self.uses($0, "actions/download-artifact") })
        #expect(Self.with(binDownload)["name"] as? String == "switchbench-${{ matrix.arch }}")
        let runUpload = try #require(Self.steps(measure).first { Self.uses($0, "actions/upload-artifact") })
        let runName = try #require(Self.with(runUpload)["name"] as? String)
        #expect(runName == "run-${{ matrix.image }}")
        #expect(runUpload["if"] as? String == "always()")
        let runScript = Self.steps(measure).compactMap { $0["run"] as? String }.joined(separator: "\n")
        #expect(runScript.contains("switchbench --all") && runScript.contains(#"--output "run-${{ matrix.image }}""#))

        // report: after every measure job, even failed ones; downloads every run-*; writes both languages to the summary
        #expect((report["needs"] as? [String]).map(Set.init) == ["build", "measure"])
        #expect((report["if"] as? String)?.contains("always()") == true)
        let downloads = Self.steps(report).filter { Self.uses($0, "actions/download-artifact") }
        #expect(downloads.contains { Self.with($0)["pattern"] as? String == "run-*" }, "the report must download what measure uploads (\(runName))")
        #expect(downloads.contains { Self.with($0)["name"] as? String == "switchbench-x86_64" })
        #expect((report["runs-on"] as? String).map { !$0.hasSuffix("-arm") } == true, "the report job runs the x86_64 binary")
        let script = Self.steps(report).compactMap { $0["run"] as? String }.joined(separator: "\n")
        for needle in ["switchbench report", "--lang en", "--lang zh", "$GITHUB_STEP_SUMMARY"] {
            #expect(script.contains(needle), "report lacks \(needle)")
        }
        // the images it names as missing are the matrix's images
        let named = script.components(separatedBy: "for want in ").dropFirst().first?.components(separatedBy: "; do").first?
            .split(separator: " ").map(String.init) ?? []
        #expect(named == images, "report checks \(named), the matrix has \(images)")
    }

    @Test(.enabled(if: PyYAML.enabled, PyYAML.why))
    func playbookHoldsTogether() throws {
        let plays = try #require(PyYAML.load(Self.dir + "/switchbench.yml") as? [Object])
        #expect(plays.count == 4)
        let hosts = plays.map { $0["hosts"] as? String ?? "" }
        #expect(hosts[0] == "localhost" && hosts[3] == "localhost")
        #expect(hosts[1].hasSuffix(":!switchbench_serial") && hosts[2].hasSuffix(":&switchbench_serial"))
        #expect(plays[2]["serial"] as? Int == 1)
        #expect((plays[1]["serial"] as? String)?.contains("switchbench_serial | default(0)") == true)
        for play in plays[1...2] {
            let tasks = play["tasks"] as? [Object] ?? []
            #expect(tasks.contains { $0["ansible.builtin.import_tasks"] as? String == "measure.yml" })
        }
        // the four pre-checks: each a fail task whose one-line message names the check and the host
        let measure = try #require(PyYAML.load(Self.dir + "/measure.yml") as? [Object])
        let block = try #require(measure.first { $0["block"] != nil }?["block"] as? [Object])
        for check in ["arch", "glibc", "memory", "running"] {
            let task = try #require(block.first { $0["name"] as? String == "Pre-check \(check)" }, "no pre-check \(check)")
            let msg = ((task["ansible.builtin.fail"] as? Object)?["msg"] as? String) ?? ""
            #expect(msg.hasPrefix("pre-check \(check) on {{ inventory_hostname }}: "), "\(msg)")
            #expect(!msg.trimmingCharacters(in: .whitespacesAndNewlines).contains("\n"), "pre-check \(check) is not one line")
            #expect(task["ignore_errors"] as? Bool == true, "a failed pre-check must stop only its host")
        }
        #expect(measure.contains { $0["ignore_unreachable"] as? Bool == true }, "an unreachable host must be recorded, not dropped")
        let fetch = try #require(block.first { $0["ansible.builtin.fetch"] != nil }?["ansible.builtin.fetch"] as? Object)
        #expect((fetch["dest"] as? String)?.hasPrefix("{{ sb_local }}") == true)
        let local = try String(contentsOfFile: Self.dir + "/measure.yml", encoding: .utf8)
        #expect(local.contains(#"sb_local: "{{ fleet.sb_runs }}/{{ inventory_hostname }}""#))

        // every variable the playbook reads is documented at its head, and the example inventory parses
        let text = try String(contentsOfFile: Self.dir + "/switchbench.yml", encoding: .utf8) + local
        let head = text.split(separator: "\n").prefix { $0.hasPrefix("#") }.joined(separator: "\n")
        let re = try NSRegularExpression(pattern: #"\bswitchbench_[a-z_]+\b"#)
        let used = Set(re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
            .subtracting(["switchbench_serial"])   // also the group's name
        for v in used { #expect(head.contains(v), "\(v) is not documented at the head of fleet/switchbench.yml") }
        // a private place: a fresh mkdtemp directory, checked before the binary goes in, removed whatever happened;
        // never a fixed path another user of the target could make first
        #expect(!text.contains("/tmp/switchbench-fleet"), "a fixed, guessable directory on the targets")
        let names = block.map { $0["name"] as? String ?? "" }
        let made = try #require(block.firstIndex { ($0["ansible.builtin.tempfile"] as? Object)?["state"] as? String == "directory" })
        let checked = try #require(block.firstIndex { ($0["ansible.builtin.include_tasks"] as? String) == "private-dir.yml"
            && ($0["vars"] as? Object)?["sb_private_path"] as? String == "{{ sb_dir }}" })
        let copied = try #require(block.firstIndex { ($0["ansible.builtin.copy"] as? Object)?["dest"] as? String == "{{ sb_dir }}/switchbench" })
        #expect(made < checked && checked < copied, "\(names)")
        let given = try #require(block.firstIndex { ($0["vars"] as? Object)?["sb_private_what"] as? String == "switchbench_remote_dir" })
        #expect(given < made, "switchbench_remote_dir must be checked before a directory is made in it")
        let always = try #require(measure.first { $0["block"] != nil }?["always"] as? [Object])
        #expect(always.contains { ($0["ansible.builtin.file"] as? Object)?["path"] as? String == "{{ sb_dir }}"
            && ($0["ansible.builtin.file"] as? Object)?["state"] as? String == "absent" }, "the run's directory is not removed whatever happened")
        let check = try #require(PyYAML.load(Self.dir + "/private-dir.yml") as? [Object])
        let script = check.compactMap { $0["ansible.builtin.shell"] as? String }.joined()
        for needle in ["stat -c '%u %a %U'", "022", "01000", "readlink -f", "-L"] { #expect(script.contains(needle), "private-dir.yml lacks \(needle)") }
        let inventory = try #require(PyYAML.load(Self.dir + "/inventory.example.yml") as? Object)
        let children = ((inventory["all"] as? Object)?["children"] as? Object) ?? [:]
        #expect(children["switchbench_serial"] != nil, "the example shows the one-at-a-time group")
    }
}
