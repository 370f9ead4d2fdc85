import Foundation
import Testing
@testable import SwitchBench

@Suite struct PollutionVerdictTests {
    /// Statistics of n values spread evenly ±spread around a median.
    func stats(_ median: Double, spread: Double = 0.1, n: Int = 101) -> Statistics {
        Statistics((0..<n).map { median - spread + 2 * spread * Double($0) / Double(n - 1) })
    }

    func point(w: Int, process: Double, thread: Double, none: Double = 0.3, flush: Double = 15, spread: Double = 0.1,
               n: Int = 101) -> PollutionVerdict.Point {
        .init(w: w, process: stats(process, spread: spread, n: n), thread: stats(thread, spread: spread, n: n),
              none: stats(none, n: n), flush: stats(flush, n: n))
    }

    @Test func fullFlushIsYes() {
        let pts = [16, 32, 64].map { point(w: $0, process: 14.5, thread: 0.8) }
        #expect(PollutionVerdict.decide(pts).answer == .yes)
    }

    @Test func sameAsThreadIsNo() {
        let pts = [16, 32, 64].map { point(w: $0, process: 0.9, thread: 0.8) }
        #expect(PollutionVerdict.decide(pts).answer == .no)
    }

    @Test func smallSignificantExcessIsStillNo() {
        // Measured on the KVM guest: process above thread beyond the CIs by ~1.5–2 ns/page at W ≤ 64,
        // about a tenth of a real flush: a few evicted entries, not a flush.
        let pts = [16, 32, 64].map { point(w: $0, process: 2.7, thread: 1.0, flush: 16) }
        #expect(pts.allSatisfy { $0.process.ci95Low > $0.thread.ci95High })
        #expect(PollutionVerdict.decide(pts).answer == .no)
    }

    @Test func halfAFlushIsPartly() {
        let pts = [16, 32, 64].map { point(w: $0, process: 7.5, thread: 0.8) }
        #expect(PollutionVerdict.decide(pts).answer == .partly)
    }

    @Test func overlappingCIsAreNo() {
        // Even a large difference of medians does not count when the CIs overlap.
        let pts = [16, 32, 64].map { point(w: $0, process: 12, thread: 2, spread: 20, n: 7) }
        #expect(pts.allSatisfy { $0.process.ci95Low <= $0.thread.ci95High })
        #expect(PollutionVerdict.decide(pts).answer != .yes)
        #expect(PollutionVerdict.decide(pts).answer != .partly)
    }

    @Test func invisibleFlushIsInconclusive() {
        let pts = [16, 32].map { point(w: $0, process: 0.5, thread: 0.5, none: 0.4, flush: 0.45) }
        #expect(PollutionVerdict.decide(pts).answer == .inconclusive)
        #expect(PollutionVerdict.decide([]).answer == .inconclusive)
    }

    @Test func onlyVisibleWCount() {
        // Beyond the TLB reach the flush reference vanishes; those W neither help nor hurt.
        let pts = [point(w: 16, process: 14, thread: 0.8), point(w: 32, process: 14, thread: 0.8),
                   point(w: 4096, process: 0.1, thread: 0.1, none: 0.1, flush: 0.2)]
        #expect(PollutionVerdict.decide(pts).answer == .yes)
    }

    @Test func switchTallyParsesStatus() {
        let text = "Name:\tx\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t30\n"
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { SwitchTally.parse($0) } == 42)
        #expect(Array("nothing here".utf8).withUnsafeBytes { SwitchTally.parse($0) } == 0)
    }
}

// Real runs: serialized with every other suite that measures (ProcessSpawningTests), so no
// other test's work preempts their samples.
extension ProcessSpawningTests {
@Suite(.serialized) struct PollutionRunTests {
    /// A short real run without a forked B (RingTests kills the forked children it finds, so this test
    /// forks none): every case is there, thread switches are proven, and a verdict without the process
    /// case says it cannot decide.
    @Test func quickThreadRunHasEveryCaseAndAVerdict() throws {
        var o = RunOptions()
        o.quick = true
        o.sampler = .quick
        o.mechanisms = ["thread", "none", "flush"]
        // Off the first CPU, where the ring and CLI tests pin their same-cpu tasks.
        o.cpus = Affinity.current().last.map { [$0] }
        let ctx = RunContext(options: o, environment: Environment.read())
        let h = PollutionHarness()
        let spec = try #require(h.plan(o).first)
        #expect(spec.mechanism == "thread,none,flush")
        let rows = try h.run(spec, context: ctx)
        let penalty = rows.filter { $0.metric == "rewalk_penalty_per_page" }
        #expect(penalty.count == 4 * PollutionHarness.quickW.count)   // thread idle + busy, none, flush
        for r in penalty {
            let expected = r.mechanism == "thread" ? 2.0 : 0.0
            // Two kernel switches per rep (A→B, B→A) for a thread B, none otherwise; counted from /proc.
            #expect(abs((r.switchesPerOp ?? -1) - expected) < 0.5, "\(r.mechanism) W=\(r.workingSetPages ?? 0): \(r.switchesPerOp ?? -1)")
        }
        // Every mechanism has a row at every W (whether a flush costs more than no switch there is a
        // timing: scripts/experiments/timing-orderings.py checks it on a real run).
        for m in ["none", "flush"] {
            #expect(penalty.filter { $0.mechanism == m }.compactMap(\.workingSetPages) == PollutionHarness.quickW, "\(m)")
        }
        #expect(Set(rows.map(\.key)).count == rows.count)
        let verdict = try #require(rows.first { $0.mechanism == "verdict" })
        #expect(verdict.note.hasPrefix("inconclusive: needs the process"))
        #expect(verdict.note.contains("PCID"))
    }
}
}
