import CSwitchBench
import Foundation
import SwitchBench
import Testing

/// The built `switchbench` binary, run as a user would: exit codes, one-line errors, signals, leftovers.
extension ProcessSpawningTests {
@Suite struct CLITests {
    /// The binary sits beside the test bundle in the build directory.
    static let binary: String? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let p = dir.appendingPathComponent("switchbench").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
            dir.deleteLastPathComponent()
        }
        return nil
    }()

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    nonisolated(unsafe) static var sawChildren = false

    /// Whether pid has forked ring tasks (they name themselves "sb-ring-task").
    static func ringChildren(of pid: pid_t) -> Bool {
        ProcessTable.all().contains { $0.ppid == pid && $0.comm == "sb-ring-task" }
    }

    /// Whether pid is creating many tasks: more than `over` forked "sb-many-task" children or threads.
    static func manyTasks(of pid: pid_t, over: Int) -> Bool {
        let threads = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("Threads:") }
            .flatMap { Int($0.dropFirst(8).trimmingCharacters(in: .whitespaces)) } ?? 0
        if threads > over { return true }
        return ProcessTable.all().filter { $0.ppid == pid && $0.comm == "sb-many-task" }.count > over
    }

    static func run(_ args: [String], interruptWith signal: Int32? = nil,
                    when ready: ((pid_t) -> Bool)? = nil) throws -> (Result, pid_t) {
        let bin = try #require(binary, "switchbench binary not built beside the tests (run swift build first)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        let kv = marker.split(separator: "=", maxSplits: 1).map(String.init)
        p.environment = ProcessInfo.processInfo.environment.merging([kv[0]: kv[1]]) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let pid = p.processIdentifier
        if let signal {
            // Wait until the run has children (mid-case), then interrupt it.
            if let ready {
                // Interrupt as soon as the condition holds (in the middle of creating tasks).
                for _ in 0..<30_000 {
                    if ready(pid) { break }
                    usleep(1_000)
                }
                sawChildren = ready(pid)
            } else {
                for _ in 0..<3000 {
                    if Self.ringChildren(of: pid) { break }
                    usleep(10_000)
                }
                usleep(200_000)
                sawChildren = Self.ringChildren(of: pid)
            }
            kill(pid, signal)
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let status = p.terminationReason == .exit ? p.terminationStatus : 128 + p.terminationStatus
        return (Result(status: status, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self)), pid)
    }

    static func tempDir() -> String {
        NSTemporaryDirectory() + "switchbench-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Every binary these tests start carries this marker in its environment, and so does every
    /// process it forks.
    static let marker = "SWITCHBENCH_TEST_RUN=\(getpid())-\(UInt64.random(in: 0...UInt64.max))"

    /// Orphans of the binary are re-parented to us (child subreaper), so leftovers are visible:
    /// anything of ours still carrying the marker once the binary has exited, running or zombie.
    static func leftovers() -> [String] {
        ProcessTable.all().filter { p in
            guard p.ppid == getpid() else { return false }
            if p.state == "Z" && (p.comm == "sb-ring-task" || p.comm == "sb-many-task") { return true }   // a zombie's environ is gone
            guard let env = FileManager.default.contents(atPath: "/proc/\(p.pid)/environ") else { return false }
            return env.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == marker }
        }.map { "\($0.pid) \($0.comm) \($0.state)" }
    }

    init() { _ = sb_set_child_subreaper() }

    @Test(arguments: [
        ["run", "nosuchharness"],
        ["run"],
        ["run", "process", "--cpus", "0-"],
        ["run", "process", "--cpus", "4095"],
        ["run", "process", "--tasks", "1"],
        ["run", "process", "--tasks", "two"],
        ["run", "process", "--footprint", "-5"],
        ["run", "process", "--footprint", "64G"],
        ["run", "process", "--mechanism", "carrier-pigeon"],
        ["run", "process", "--placement", "everywhere"],
        ["run", "process", "--samples", "0"],
        ["run", "process", "--format", "xml"],
        ["run", "process", "--lang", "fr"],
        ["--all", "--bogus-flag"],
        ["run", "process", "--output", "/etc/hostname/sub"],
        ["run", "tlb", "--placement", "cross-cpu"],
        ["run", "syscall", "--mechanism", "pipe"],
        ["run", "memory", "--population", "0"],
        ["run", "memory", "--population", "ten"],
        ["run", "events", "--burst", "0"],
        ["run", "memory", "--stack-size", "-1"],
        ["run", "memory", "--stack-size", "2G"],
    ])
    func badInputExitsTwoWithOneLine(args: [String]) throws {
        let dir = Self.tempDir()
        let extra = args.contains("--output") ? [] : ["--output", dir]
        let (r, _) = try Self.run(args + (args.first == "run" && args.count > 1 ? extra : []))
        #expect(r.status == 2, "\(args): status \(r.status), stderr \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(args): \(r.stderr)")
        #expect(lines.first?.hasPrefix("switchbench: error: ") == true, "\(args): \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing may be written on bad input")
    }

    @Test func quickRunWritesFilesAndLeavesNothing() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, _) = try Self.run(["run", "process", "thread", "--mechanism", "pipe", "--placement", "same-cpu",
                                   "--samples", "5", "--quick", "--format", "csv", "--output", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        // Exactly the files the writer makes of this run (the run read back from its own CSV), no more.
        let run = try RunLoader.load(dir + "/results.csv").run
        #expect(files == RunWriter.files(for: run).map(\.name).sorted())
        #expect(files.contains("results.csv") && files.contains("notes.md"))
        #expect(!files.contains { $0.hasPrefix(".") }, "no temporary file left: \(files)")
        #expect(r.stdout.hasPrefix("suite_version,run_id,"))
        #expect(r.stderr.contains("[1/2]") && r.stderr.contains("[2/2]"), "progress on stderr")
        #expect(Self.leftovers().isEmpty, "\(Self.leftovers())")
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func interruptKillsAndReapsChildren(sig: Int32, expected: Int32) throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, _) = try Self.run(["run", "process", "--mechanism", "pipe", "--placement", "same-cpu",
                                   "--tasks", "4", "--samples", "1000", "--output", dir], interruptWith: sig)
        #expect(Self.sawChildren, "the signal should arrive while the ring's children run")
        #expect(r.status == expected, "status \(r.status) stderr \(r.stderr)")
        // The binary has exited: it reaps its children first, so none may be left (no grace period).
        #expect(Self.leftovers().isEmpty, "\(Self.leftovers())")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        #expect(files.isEmpty, "nothing half-written: \(files)")
    }

    /// SIGINT while 10 000 tasks are being made: exit 130, no child left, no file written.
    @Test(arguments: [["memory", "--mechanism", "process"], ["memory", "--mechanism", "thread"],
                      ["events", "--mechanism", "thread"], ["events", "--mechanism", "process"]])
    func interruptWhileCreatingTenThousandTasksLeavesNothing(args: [String]) throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (r, pid) = try Self.run(["run"] + args + ["--population", "10000", "--output", dir], interruptWith: SIGINT,
                                    when: { Self.manyTasks(of: $0, over: 300) })
        #expect(Self.sawChildren, "the signal should arrive while tasks are being made")
        #expect(r.status == 130, "status \(r.status) stderr \(r.stderr)")
        // The binary has exited: it reaps its children first, so none may be left (no grace period).
        #expect(Self.leftovers().isEmpty, "\(Self.leftovers())")
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)/status"), "the run itself is gone")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).isEmpty, "nothing half-written")
    }

    @Test func listAndEnvWork() throws {
        let (l, _) = try Self.run(["list"])
        #expect(l.status == 0 && l.stdout.contains("process") && l.stdout.contains("futex") && l.stdout.contains("same-cpu"))
        let (e, _) = try Self.run(["env"])
        #expect(e.status == 0 && e.stdout.contains("kernel") && e.stdout.contains("pcid"))
        let (h, _) = try Self.run(["--help"])
        #expect(h.status == 0 && h.stdout.contains("--all"))
    }
}
}
