import Foundation
import Testing
@testable import SwitchBench

/// The room a run's files need, checked before the first case (RunSpace), and how the writer makes its
/// files in a directory others may share (RunWriter: mkstemp, never a guessable name).
@Suite struct RunSpaceTests {
    /// Every harness the reference run has rows of has its measured size, and none is listed that the
    /// registry lacks. A harness newer than the reference run counts as the largest until a reference
    /// run measures it (so a new harness needs no edit here to pass).
    @Test func everyMeasuredHarnessHasItsSize() throws {
        let run = try RunLoader.load(MachineFixtures.root + "/results/reference/results.csv").run
        let measured = Set(run.records.map(\.harness))
        #expect(!measured.isEmpty)
        for id in measured.sorted() {
            #expect(RunSpace.bytesPerCase[id].map { $0 > 0 } == true, "\(id): no measured bytes per case in RunSpace")
        }
        for id in RunSpace.bytesPerCase.keys.sorted() { #expect(Registry.harness(id) != nil, "RunSpace lists \(id), which the registry lacks") }
        var o = RunOptions()
        o.quick = true
        let unmeasured = [ProbeHarnessForSpace()]
        let added = RunSpace.estimate(unmeasured, options: o) - RunSpace.estimate([], options: o)
        #expect(abs(added - Int(Double(RunSpace.bytesPerCase.values.max() ?? 0) * 1.25)) <= 1, "an unmeasured harness counts as the largest")
    }

    /// A harness with one case and no measured size.
    struct ProbeHarnessForSpace: Harness {
        let info = HarnessInfo("space-probe", claims: [], summary: "test only", mechanisms: [("m", "test")])
        func plan(_ options: RunOptions) -> [CaseSpec] { [CaseSpec(harness: id, mechanism: "m")] }
        func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] { [] }
    }

    /// The estimate for `--all` covers what the writer makes of the reference `--all` run (31 samples a
    /// case), and is not wildly above it.
    @Test func estimateCoversAnAllRun() throws {
        let run = try RunLoader.load(MachineFixtures.root + "/results/reference/results.csv").run
        let written = RunWriter.files(for: run).reduce(0) { $0 + $1.contents.utf8.count }
        let estimate = RunSpace.estimate(Registry.harnesses, options: RunOptions())
        #expect(estimate >= written, "estimate \(estimate) B, the reference run's files \(written) B")
        #expect(estimate <= 3 * written, "estimate \(estimate) B, the reference run's files \(written) B")
    }

    @Test func moreSamplesNeedMoreRoom() {
        var o = RunOptions()
        let once = RunSpace.estimate([], options: o), base = RunSpace.estimate([SyscallHarness()], options: o) - once
        o.sampler.samples = 310
        #expect(base > 0)
        #expect(RunSpace.estimate([SyscallHarness()], options: o) - once > 5 * base)
    }

    /// What fits is the data: results.csv is the first file written.
    @Test func resultsCSVIsWrittenFirst() throws {
        let run = try RunLoader.load(MachineFixtures.epyc2).run
        #expect(RunWriter.files(for: run).first?.name == "results.csv")
    }

    @Test func aMissingOutputIsCheckedOnItsNearestParent() throws {
        let free = try #require(RunSpace.available(NSTemporaryDirectory() + "no-such-\(UInt64.random(in: 0...UInt64.max))/run"))
        #expect(free.bytes > 0)
    }

    /// One-character relative names ("r", "x/y") end at the working directory (they trapped in Foundation).
    @Test func aShortRelativeOutputIsCheckedOnTheWorkingDirectory() throws {
        let name = "q\(UInt64.random(in: 0...UInt64.max))"
        for dir in ["r", "\(name)/y", "\(name)/y/"] where access(dir, F_OK) != 0 {
            #expect(try #require(RunSpace.available(dir)).bytes > 0)
        }
    }

    /// A link planted under any name the writer might use (the old fixed `.<name>.tmp-<pid>` included)
    /// is never followed: the file it points to is untouched, the file lands with a plain create's mode.
    @Test func writeNeverFollowsAPlantedLink() throws {
        let dir = NSTemporaryDirectory() + "switchbench-writer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        for name in [".results.csv.tmp-\(getpid())", ".switchbench-probe-\(getpid())"] {
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + name, withDestinationPath: victim)
        }
        try RunWriter.prepare(dir)
        try RunWriter.write("a,b\n", name: "results.csv", in: dir)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep")
        #expect(try String(contentsOfFile: dir + "/results.csv", encoding: .utf8) == "a,b\n")
        let mask = umask(0)
        umask(mask)
        let mode = try #require(FileManager.default.attributesOfItem(atPath: dir + "/results.csv")[.posixPermissions] as? Int)
        #expect(mode == 0o666 & ~Int(mask))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp.") || $0.contains("probe.") }
        #expect(left.isEmpty, "temporary files left: \(left)")
    }
}

/// A run into a filesystem without room for its files: exit 2 and one line, before the first case.
extension ProcessSpawningTests {
@Suite struct FullDiskTests {
    static let why: Comment = "needs root and a mount namespace (unshare -m) for a 32 KiB tmpfs"
    static let canMount: Bool = {
        guard geteuid() == 0 else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-m", "true"]
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test(.enabled(if: canMount, why))
    func outputOnA32KiBTmpfsExitsTwoBeforeTheFirstCase() throws {
        let bin = try #require(CLITests.binary, "switchbench binary not built beside the tests (run swift build first)")
        let mnt = CLITests.tempDir()
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: mnt) }
        // The tmpfs lives in a mount namespace of the run's own: nothing is left mounted if the test dies.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-m", "sh", "-c", #"mount -t tmpfs -o size=32k sb-full "$1" && shift && "$@"; rc=$?; ls -A "$0"; exit $rc"#,
                       mnt, mnt, bin, "run", "syscall", "--quick", "--output", mnt + "/run"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 2, "exit \(p.terminationStatus): \(e)")
        let lines = e.split(separator: "\n")
        #expect(lines.count == 1, "\(e)")
        #expect(lines.first?.hasPrefix("switchbench: error: not enough space for the run's files in '\(mnt)/run': ") == true, "\(e)")
        #expect(!e.contains("[1/"), "a case ran: \(e)")
        #expect(o.isEmpty, "the tmpfs holds \(o): nothing may be made there")
    }
}
}
