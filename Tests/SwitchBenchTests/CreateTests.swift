import CSwitchBench
import Foundation
import Glibc
import Testing
@testable import SwitchBench

/// The create harness's minimal parent (`switchbench-proc`), its static no-op (`switchbench-noop`) and
/// the "fork cost vs the parent's mapped memory" sweep. Properties only, no timing thresholds.
@Suite struct CreateTests {
    /// Whether an ELF file asks for a program interpreter (PT_INTERP): a dynamically linked program does.
    static func hasInterpreter(_ path: String) throws -> Bool {
        let data = try #require(FileManager.default.contents(atPath: path))
        let bytes = [UInt8](data)
        #expect(bytes.count > 64 && bytes[0..<4] == [0x7f, 0x45, 0x4c, 0x46] && bytes[4] == 2, "\(path) is not a 64-bit ELF file")
        func int(_ at: Int, _ size: Int) -> Int { (0..<size).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let phoff = int(0x20, 8), phentsize = int(0x36, 2), phnum = int(0x38, 2)
        return (0..<phnum).contains { int(phoff + $0 * phentsize, 4) == 3 /* PT_INTERP */ }
    }

    static func context(samples: Int = 3) -> RunContext {
        var options = RunOptions()
        options.sampler = SamplerConfig(samples: samples, warmup: 1, minSampleNs: 2_000_000)
        return RunContext(options: options, environment: Environment.read())
    }

    @Test func theHelpersAreBuiltBesideTheTestsAndAreStatic() throws {
        let helpers = try MinimalParent.helpers().get()
        #expect((helpers.parent as NSString).deletingLastPathComponent == MinimalParent.directory)
        #expect((helpers.noop as NSString).lastPathComponent == "switchbench-noop")
        #expect(try !Self.hasInterpreter(helpers.noop), "switchbench-noop must be statically linked")
        #expect(try !Self.hasInterpreter(helpers.parent), "switchbench-proc must be statically linked")
        // The no-op runs and exits 0.
        let out = try #require(Subprocess.run([helpers.noop]))
        #expect(out.status == 0 && out.output.isEmpty)
    }

    @Test func theSweepHasExactlyItsSizes() {
        for quick in [false, true] {
            var options = RunOptions()
            options.quick = quick
            if quick { options.sampler = .quick }
            let plan = CreateHarness().plan(options)
            for m in ["fork-exit-wait", "posix-spawn"] {
                #expect(plan.filter { $0.mechanism == m }.map(\.footprint) == [0, 64 << 20, 1 << 30], "\(m) quick=\(quick)")
            }
            for m in ["fork-exec", "pthread", "coroutine", "swift-task", "zombie"] {
                #expect(plan.filter { $0.mechanism == m }.map(\.footprint) == [0], "\(m) quick=\(quick)")
            }
        }
    }

    @Test func processAndThreadRowsComeFromTheMinimalParent() throws {
        let context = Self.context()
        let h = CreateHarness()
        let cpu = context.allowedCPUs[0]
        for m in ["fork-exit-wait", "fork-exec", "posix-spawn", "pthread"] {
            let r = try #require(h.run(CaseSpec(harness: "create", mechanism: m), context: context).first)
            #expect(CreateParent.of(r) == .minimal, "\(m): \(r.factsText)")
            #expect(r.note.contains("minimal C parent (switchbench-proc"), "\(m): \(r.note)")
            #expect(r.stats != nil && r.samples == 3, "\(m): \(r.note)")
            // The parent ran where the row says (sched_getcpu in the helper, before and after the batches).
            #expect(r.cpusSeen == String(cpu), "\(m): \(r.cpusSeen)")
            // What fork copies: the static parent's mappings, fewer than this dynamically linked test's.
            let own = try #require(readProcFile("/proc/self/maps")).split(separator: "\n").count
            let mappings = try #require(CreateParent.mappings(r), "\(m): \(r.factsText)")
            #expect(mappings > 0 && mappings < own, "\(m): \(mappings) mappings, this test process \(own)")
            // Its kernel switches are counted from /proc: a parent that waits for each child sleeps.
            #expect((r.switchesPerOp ?? 0) > 0, "\(m): \(String(describing: r.switchesPerOp))")
            if m == "fork-exec" || m == "posix-spawn" {
                #expect(ExecProgram.of(r) == .staticNoop && r.note.contains("static no-op switchbench-noop"), "\(m): \(r.note)")
            } else {
                #expect(ExecProgram.of(r) == nil || m == "pthread")
            }
        }
        // The user-mode rows stay in this process.
        let co = try #require(h.run(CaseSpec(harness: "create", mechanism: "coroutine"), context: context).first)
        #expect(CreateParent.of(co) == nil && co.fact("parent") == nil && co.note.contains("in this process"))
    }

    @Test func aSweepRowGetsFourKiBPagesAndSaysSo() throws {
        let context = Self.context()
        let spec = CaseSpec(harness: "create", mechanism: "fork-exit-wait", footprint: 64 << 20)
        let r = try #require(CreateHarness().run(spec, context: context).first)
        #expect(r.footprintBytes == 64 << 20)
        #expect(CreateParent.hugeBytes(r) == 0, "\(r.factsText)")
        #expect((CreateParent.residentBytes(r) ?? 0) >= 64 << 20, "\(r.factsText)")
        #expect(r.note.contains("64 MiB of private anonymous memory resident in 4 KiB pages"), "\(r.note)")
        // Valid, or invalid only because other work took the CPU (retakes ran out): never for its pages.
        let reasons = r.note.components(separatedBy: "invalid: ").dropFirst()
        #expect(reasons.allSatisfy { $0.hasPrefix("preempted samples") }, "\(r.note)")
    }

    @Test func aMissingHelperGivesOneClearReason() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sb-create-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Only the parent is there: the no-op is missing.
        let real = try MinimalParent.helpers().get()
        try FileManager.default.copyItem(atPath: real.parent, toPath: dir + "/switchbench-proc")
        let h = CreateHarness(helperDirectory: dir)
        let context = Self.context()
        for m in ["fork-exit-wait", "fork-exec"] {
            let rows = try h.run(CaseSpec(harness: "create", mechanism: m), context: context)
            #expect(rows.count == 1)
            let r = rows[0]
            #expect(r.stats == nil && r.samples == 0, "\(m): no timing without its helper")
            #expect(r.note.hasPrefix("n/a: missing helper \(dir)/switchbench-noop "), "\(m): \(r.note)")
            #expect(!r.note.contains("switchbench-proc"), "only the missing file is named: \(r.note)")
        }
        // Neither there: both are named, and the section says what was not measured.
        let none = CreateHarness(helperDirectory: dir + "/nowhere")
        let r = try #require(none.run(CaseSpec(harness: "create", mechanism: "pthread"), context: context).first)
        #expect(r.note.contains("\(dir)/nowhere/switchbench-proc and \(dir)/nowhere/switchbench-noop"), "\(r.note)")
        let run = ReportFixture.run([r])
        let md = try #require(none.markdownSection(run, lang: .en))
        #expect(md.contains("**Not measured:** `pthread`: missing helper"), "\(md)")
        let claim = try #require(none.judgeClaims(run, lang: .en).first)
        #expect(claim.verdict != .holds)
    }

    /// A sweep built from made-up rows: the table has one line per size and its sentence follows the numbers.
    @Test func theSweepTableFollowsItsRows() throws {
        func row(_ m: String, _ size: Int, _ ns: Double) -> Record {
            var r = ReportFixture.record("create", m, metric: "create_cleanup", ns, tasks: 1)
            r.footprintBytes = size
            r.setFact("parent", "switchbench-proc")
            if size > 0 { r.setFact("touched_huge_bytes", "0") }
            return r
        }
        let rows = [row("fork-exit-wait", 0, 100_000), row("fork-exit-wait", 64 << 20, 2_000_000), row("fork-exit-wait", 1 << 30, 40_000_000),
                    row("posix-spawn", 0, 400_000), row("posix-spawn", 64 << 20, 410_000), row("posix-spawn", 1 << 30, 420_000)]
        let run = ReportFixture.run(rows)
        let h = CreateHarness()
        let en = try #require(h.markdownSection(run, lang: .en))
        #expect(en.contains("### Fork cost vs the parent's mapped memory"))
        #expect(en.contains("| none | 100"), "\(en)")
        #expect(en.contains("| 64.0 MiB |") && en.contains("| 1.0 GiB |"), "\(en)")
        #expect(en.contains("took 400× as long as with none"), "\(en)")
        #expect(en.contains("posix_spawn + waitpid took 1.05× as long"), "\(en)")
        // The main table shows the rows without touched memory only: one line per mechanism.
        #expect(en.components(separatedBy: "| `fork-exit-wait` |").count == 2, "\(en)")
        let zh = try #require(h.markdownSection(run, lang: .zh))
        #expect(zh.contains("fork 的代价与父进程映射的内存"))
        #expect(LeakCheck.leaks(zh).isEmpty, "\(LeakCheck.leaks(zh))")
        // C6 is judged from the row without touched memory.
        let claim = try #require(h.judgeClaims(run, lang: .en).first)
        #expect(claim.values.first?.value == 100_000)
        #expect(!claim.evidence.contains { $0.footprintBytes > 0 })
    }

    @Test func theZombieKeepsItsEntryAndExitStatusButNoMemoryOrFiles() throws {
        let h = CreateHarness()
        let z = try #require(try h.run(CaseSpec(harness: "create", mechanism: "zombie"), context: Self.context()).first)
        let res = try #require(ZombieResources.from(z))
        #expect(z.fact(ZombieFact.beforeKey) == "Z" && z.fact(ZombieFact.afterKey) == "gone")
        // alive: the memory it touched resident, the files it opened open
        #expect((res.alive.rssKiB ?? 0) * 1024 >= Double(ZombieResources.touchedBytes))
        #expect((res.alive.openFDs ?? 0) >= ZombieResources.openedFDs && (res.alive.mappings ?? 0) > 0)
        // the zombie: no VmRSS (or 0), no mappings, an empty fd directory; its status file and exit status kept
        #expect(res.zombie.rssKiB == nil || res.zombie.rssKiB == 0)
        #expect((res.zombie.mappings ?? 0) == 0 && (res.zombie.openFDs ?? 0) == 0)
        #expect(res.exitStatus == Int(ZombieResources.exitCode))
        #expect((res.zombie.statusFields ?? 0) > 0 && (res.zombie.statusFields ?? 0) < (res.alive.statusFields ?? 0))
        #expect(z.valid, "\(z.note)")
        // C6 says it with these numbers
        var fork = ReportFixture.record("create", "fork-exit-wait", metric: "create_cleanup", 90_000, tasks: 1)
        fork.setFact("parent", "switchbench-proc")
        for lang in Language.allCases {
            let claim = try #require(h.judgeClaims(ReportFixture.run([fork, z]), lang: lang).first)
            #expect(claim.verdict == .holds)
            #expect(claim.values.contains { $0.name == "zombie_rss_kib" && $0.value == 0 })
            #expect(claim.values.contains { $0.name == "child_open_fds_alive" && $0.value >= Double(ZombieResources.openedFDs) })
            #expect(claim.why.contains(Format.bytes(Double(ZombieResources.touchedBytes))))
            if lang == .zh { #expect(LeakCheck.leaks(claim.why + (claim.advice ?? "")).isEmpty, "\(LeakCheck.leaks(claim.why + (claim.advice ?? "")))") }
        }
    }

    @Test func oldRowsReadAsTheSuitesOwnProcess() throws {
        var r = ReportFixture.record("create", "fork-exit-wait", metric: "create_cleanup", 400_000, tasks: 1)
        #expect(CreateParent.of(r) == .inSuite)
        r.setFact("parent", "switchbench-proc")
        #expect(CreateParent.of(r) == .minimal)
        let zh = CreateHarness.what(ReportFixture.record("create", "fork-exec", metric: "create_cleanup", 1, tasks: 1), .zh)
        #expect(zh.contains("旧的运行"))
    }
}

@Suite struct CreateCompareTests {
    @Test func aBaselineFromTheSuitesOwnProcessIsNotCounted() throws {
        let old = ReportFixture.record("create", "fork-exit-wait", metric: "create_cleanup", 440_000, tasks: 1)
        var new = ReportFixture.record("create", "fork-exit-wait", metric: "create_cleanup", 110_000, tasks: 1)
        new.setFact("parent", "switchbench-proc")
        let c = try Comparison.make(baseline: ReportFixture.loaded(ReportFixture.run([old])), baselineSource: "a",
                                    current: ReportFixture.loaded(ReportFixture.run([new])), currentSource: "b")
        let row = try #require(c.cases.first { $0.key.mechanism == "fork-exit-wait" })
        let h = CreateHarness()
        let why = try #require(h.compareExemption(row, baseline: [old.key: old], current: [new.key: new]))
        #expect(why.en.contains("different parent process"))
        #expect(h.compareExemption(row, baseline: [new.key: new], current: [new.key: new]) == nil)
    }
}
