import CSwitchBench
import Foundation
import Testing
@testable import SwitchBench

/// Short real runs: the kernel must confirm the switches each row claims.
/// Tests that fork or start processes and look at the process table run one at a time, so that one
/// test's children are never mistaken for another's.
@Suite(.serialized) struct ProcessSpawningTests {}

extension ProcessSpawningTests {
@Suite struct RingTests {
    static func context(samples: Int = 5) -> RunContext {
        var o = RunOptions()
        o.sampler = SamplerConfig(samples: samples, warmup: 1, minSampleNs: 1_000_000)
        return RunContext(options: o, environment: Environment.read())
    }

    static func run(_ kind: TaskKind, _ mech: String, _ placement: Placement = .sameCPU, tasks: Int = 2,
                    footprint: Int = 0, context: RunContext = context()) throws -> [Record] {
        let h = TokenRingHarness(kind: kind)
        let spec = CaseSpec(harness: h.id, mechanism: mech, placement: placement, tasks: tasks, footprint: footprint)
        return try h.run(spec, context: context)
    }

    /// The reasons a row was made invalid (each `Record.invalidate` adds "invalid: <reason>").
    static func invalidReasons(_ r: Record) -> [String] {
        r.note.components(separatedBy: "invalid: ").dropFirst().map { $0 }
    }

    /// Whether the row is invalid because other tasks took its CPU, and for nothing else: the
    /// neighbours rules saw other work on the machine or on its CPU (`Neighbours.invalidatedByNeighbours`),
    /// or the sampler's retakes ran out (another suite, or the host stealing this vCPU, preempted every
    /// sample) — then the kept samples include the preemptions' switches, so the switch count may be
    /// off as well. These are the validity rules at work, not a failure; such a row's switch count
    /// cannot be checked. One run, no retries: the caller records a warning saying so.
    static func invalidOnlyByOtherTasks(_ r: Record) -> Bool {
        if Neighbours.invalidatedByNeighbours(r) { return true }
        let reasons = invalidReasons(r)
        return !r.valid && reasons.contains { $0.hasPrefix("preempted samples") }
            && reasons.allSatisfy { $0.hasPrefix("preempted samples") || $0.hasPrefix("kernel counted") }
    }

    /// The kernel's switch count on a same-cpu hand-off row, judged as far as a shared machine allows,
    /// in one run (no retries). Every hand-off between tasks on one CPU is a switch, so the count is
    /// never below what the hand-offs need (the rule's 10 % below, for the edges): always checked.
    /// Within ±10 % the row is valid, unless other tasks took its CPU (`invalidOnlyByOtherTasks`).
    /// Above, other tasks queued on the CPU added switches (another suite in this process, or other
    /// work on the machine: 4.6 per lap of 4 seen here with nothing preempting a sample): the row must
    /// then be invalid, naming the count, and a warning says the count itself went unchecked.
    static func checkSwitchCount(_ r: Record, expected: Double, _ what: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        guard let spo = r.switchesPerOp else {
            Issue.record("\(what): no switch count; \(r.note)", sourceLocation: sourceLocation)
            return
        }
        #expect(r.expectedSwitchesPerOp == expected, "\(what)", sourceLocation: sourceLocation)
        #expect(spo >= expected * 0.9, "\(what): \(spo) switches per op, the hand-offs need \(expected); \(r.note)",
                sourceLocation: sourceLocation)
        if abs(spo - expected) / expected <= 0.10 {
            if invalidOnlyByOtherTasks(r) {
                Issue.record("\(what): validity not checked: other tasks took the CPU (\(r.note))", severity: .warning,
                             sourceLocation: sourceLocation)
            } else {
                #expect(r.valid, "\(what): \(r.note)", sourceLocation: sourceLocation)
            }
        } else if spo > expected {
            #expect(!r.valid && invalidReasons(r).contains { $0.hasPrefix("kernel counted") }, "\(what): \(spo) switches per op unflagged; \(r.note)",
                    sourceLocation: sourceLocation)
            Issue.record("\(what): \(spo) switches per op, expected \(expected): other tasks on the CPU added switches, and the row says so; the count itself not checked",
                         severity: .warning, sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [TaskKind.process, .thread], ["pipe", "futex"])
    func sameCPUSwitchesTwicePerRoundTrip(kind: TaskKind, mech: String) throws {
        let rows = try Self.run(kind, mech)
        let rt = try #require(rows.first { $0.metric == "round_trip" })
        Self.checkSwitchCount(rt, expected: 2, "\(kind) \(mech) round trip")
        #expect(rt.cpusSeen == "0,0" || rt.cpusSeen.split(separator: ",").count == 2)
        #expect(Set(["round_trip", "per_switch", "net_switch", "ipc_overhead"]).isSubset(of: Set(rows.map(\.metric))))
        // per switch is the round trip halved, sample by sample
        let ps = try #require(rows.first { $0.metric == "per_switch" })
        #expect(zip(ps.sampleValues, rt.sampleValues).allSatisfy { abs($0 * 2 - $1) < 1e-9 })
    }

    @Test func ringOfFourSwitchesFourTimesPerLap() throws {
        // Through the Runner, as a run does: other test suites run beside this one, and a task of theirs
        // queued on the ring's CPU changes the kernel's hand-off path (extra switches: 5–7 per lap seen
        // here, and 4.6 with no sample preempted). The row is then invalid, saying so; checkSwitchCount.
        var o = Self.context().options
        (o.mechanisms, o.placements, o.tasks) = (["pipe"], [.sameCPU], [4])
        var result = RunResult(runID: "t", timestampUTC: "", environment: .blank)
        Runner(context: RunContext(options: o, environment: .blank)).run([TokenRingHarness(kind: .process)], into: &result)
        let rt = try #require(result.records.first { $0.metric == "round_trip" })
        #expect(rt.tasks == 4)
        Self.checkSwitchCount(rt, expected: 4, "ring of 4, per lap")
    }

    @Test func footprintAddsATouchRow() throws {
        let rows = try Self.run(.thread, "futex", footprint: 16 * 1024)
        #expect(rows.contains { $0.metric == "touch_overhead" })
        #expect(rows.allSatisfy { $0.footprintBytes == 16 * 1024 })
    }

    @Test func affinityRestoredAfterCase() throws {
        let before = Affinity.current()
        _ = try Self.run(.thread, "pipe")
        #expect(Affinity.current() == before)
    }

    @Test func rowThatDoesNotSwitchIsInvalid() {
        // The validity rule on made-up counts: a "ping-pong" where the kernel saw no switches.
        let h = TokenRingHarness(kind: .thread)
        let m = Measured(perOp: [100, 101, 102], opsPerSample: 10, switches: 0, totalOps: 30)
        let rows = h.makeRecords(spec: CaseSpec(harness: "thread", mechanism: "pipe", placement: .unpinned, tasks: 2),
                                 n: 2, taskCPUs: [], placementNote: "", measured: m, ipc: m, touch: nil,
                                 counter: SwitchCounter(), cpuSeen: [(0, 0), (1, 1)])
        let rt = rows.first { $0.metric == "round_trip" }!
        #expect(!rt.valid)
        #expect(rt.note.contains("expected 2"))
        // A task seen on the wrong CPU invalidates a pinned row.
        let m2 = Measured(perOp: [100], opsPerSample: 10, switches: 20, totalOps: 10)
        let pinned = h.makeRecords(spec: CaseSpec(harness: "thread", mechanism: "pipe", placement: .sameCPU, tasks: 2),
                                   n: 2, taskCPUs: [0, 0], placementNote: "", measured: m2, ipc: m2, touch: nil,
                                   counter: SwitchCounter(), cpuSeen: [(0, 0), (0, 1)])
        #expect(pinned.first { $0.metric == "round_trip" }!.valid == false)
    }

    /// A child killed mid-run ends the case with a clear error: no hang, no zombie. The ring's tasks are
    /// forked after its IPC baseline (same sampler: more samples would only lengthen that phase), and
    /// the killer acts about 0.1 s after one exists, while the ring's 1000 samples of ≥ 1 ms run.
    @Test(arguments: ["pipe", "futex"])
    func killedChildEndsTheCase(mech: String) throws {
        let killer = Thread {
            for _ in 0..<500 {
                if let child = ProcessTable.forkedChildren().first {
                    usleep(100_000)
                    kill(child, SIGKILL)
                    return
                }
                usleep(10_000)
            }
        }
        killer.start()
        #expect {
            _ = try Self.run(.process, mech, context: Self.context(samples: 1000))
        } throws: { error in
            guard let e = error as? SwitchBenchError, case .caseFailed(let m) = e else { return false }
            return m.contains("signal 9") || m.contains("closed its end")
        }
        #expect(ProcessTable.forkedChildren().isEmpty)
    }

    /// Task 0 waits for the token with no timeout (`TokenRingHarness.awaitToken`): a serving task
    /// killed between samples leaves the next sample's token with nobody, and task 0 asleep for good
    /// unless something ends its wait. The case must end with the dead task named, and the driver must
    /// end by itself (the death watch halted the ring), before `close` would SIGKILL it: it is gone
    /// (reaped by the error's naming) or a zombie before anything kills it.
    @Test func killedServerEndsTask0sUntimedWait() throws {
        let spec = CaseSpec(harness: "process", mechanism: "futex", placement: .unpinned, tasks: 2)
        let ring = try RingInstance(kind: .process, spec: spec, taskCPUs: [], config: Self.context(samples: 3).options.sampler,
                                    driven: true)
        defer { ring.close() }
        _ = try ring.sample(100)   // the ring works
        let (driver, server) = (ring.taskIDs[0], ring.taskIDs[1])
        #expect(driver > 0 && server > 0)
        kill(server, SIGKILL)
        #expect {
            _ = try ring.sample(100)
        } throws: { error in
            guard let e = error as? SwitchBenchError, case .caseFailed(let m) = e else { return false }
            return m.contains("task 1") && m.contains("signal 9")
        }
        // Up to 5 s for the driver to end (a driver still asleep fails here; `close` then kills it).
        func ended() -> Bool { ProcessTable.all().first { $0.pid == driver }.map { $0.state == "Z" } ?? true }
        for _ in 0..<500 where !ended() { usleep(10_000) }
        #expect(ended(), "the driver's untimed wait did not end after a task died")
        ring.close()
        #expect(ProcessTable.forkedChildren().isEmpty)
    }
}

}

/// /proc helpers for tests.
enum ProcessTable {
    /// (pid, ppid, state, comm) of every process.
    static func all() -> [(pid: pid_t, ppid: pid_t, state: String, comm: String)] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return ids.compactMap { id -> (pid_t, pid_t, String, String)? in
            guard let pid = pid_t(id), let stat = try? String(contentsOfFile: "/proc/\(id)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            let comm = String(stat[stat.index(after: open)..<close])
            let rest = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard rest.count > 1, let ppid = pid_t(rest[1]) else { return nil }
            return (pid, ppid, String(rest[0]), comm)
        }
    }

    /// The name (comm) of a process, nil when it is gone.
    static func comm(_ pid: pid_t) -> String? { all().first { $0.pid == pid }?.comm }

    static func children(of pid: pid_t) -> [pid_t] { all().filter { $0.ppid == pid }.map(\.pid) }

    /// Ring tasks forked by this test process: they name themselves `sb-ring-task` (other tests fork
    /// children too, and start git and the switchbench binary).
    static func forkedChildren() -> [pid_t] {
        let me = getpid()
        return all().filter { $0.ppid == me && $0.comm == "sb-ring-task" }.map(\.pid)
    }
}
