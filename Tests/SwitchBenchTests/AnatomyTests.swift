import CSwitchBench
import Foundation
import Testing
@testable import SwitchBench

/// Anatomy rows as the harness writes them, for claim and presentation tests.
enum AnatomyFixture {
    static func row(_ m: String, _ metric: String, _ center: Double, unit: String = "ns", spread: Double = 0.02,
                    valid: Bool = true) -> Record {
        var r = ReportFixture.record("anatomy", m, metric: metric, center, spread: spread, valid: valid, unit: unit)
        r.setFact(PairedMeasured.pairsKey, 31)
        return r
    }

    /// getppid 180, sched_yield 500, thread 1400, process 1400 × ratio; futex process 2400, thread 2300,
    /// futex alone 900; pipe process 2500, thread 2450, pipe alone 700; wake-sleep: process sleep 1600,
    /// thread sleep 1500, FUTEX_WAKE with none 380, the wake-up path 620 (both kinds).
    static func run(ratio: Double, valid: Bool = true) -> RunResult {
        ReportFixture.run([
            row("getppid", "per_call", 180), row("sched-yield", "per_call", 500),
            row("yield", "thread_switch", 1400, spread: 0.2), row("yield", "process_switch", 1400 * ratio, spread: 0.2, valid: valid),
            row("yield", "process_over_thread", ratio, unit: "ratio"), row("yield", "process_minus_thread", 1400 * (ratio - 1)),
            row("futex", "process_switch", 2400), row("futex", "thread_switch", 2300), row("futex", "ipc_alone", 900),
            row("pipe", "process_switch", 2500), row("pipe", "thread_switch", 2450), row("pipe", "ipc_alone", 700),
            row("wake-sleep", "process_sleep", 1600), row("wake-sleep", "thread_sleep", 1500),
            row("wake-sleep", "process_wake", 1000), row("wake-sleep", "thread_wake", 1000),
            row("wake-sleep", "process_wake_none", 380), row("wake-sleep", "thread_wake_none", 380),
            row("wake-sleep", "process_wake_path", 620), row("wake-sleep", "thread_wake_path", 620),
        ])
    }
}

@Suite struct PairedSamplerTests {
    /// A batch whose cost per op is `cost`, slowed by `phase(i)` on the i-th call: no real work.
    final class Synthetic {
        var calls = 0
        let cost: Double
        let phase: (Int) -> Double
        init(cost: Double, phase: @escaping (Int) -> Double) { (self.cost, self.phase) = (cost, phase) }
        func batch(_ n: Int) -> TimedSample {
            calls += 1
            return TimedSample(ns: UInt64(cost * phase(calls) * Double(n)), stolenNs: 0)
        }
    }

    @Test func aSlowPhaseLongerThanAPairCancelsInThePairedRatio() throws {
        // A synthetic phase of the host: every other stretch of 8 calls (4 pairs) runs 1.4× slower,
        // as the host's slow phases slow the kernel entry path. A's true cost is 2× B's.
        let config = SamplerConfig(samples: 31, warmup: 1, minSampleNs: 1_000_000)
        var calls = 0
        func sample(_ cost: Double, _ n: Int) -> TimedSample {
            calls += 1
            let phase = (calls / 8) % 2 == 1 ? 1.4 : 1.0
            return TimedSample(ns: UInt64(cost * phase * Double(n)), stolenNs: 0)
        }
        let m = try Sampler.runPaired(config, a: PairSide { sample(2000, $0) }, b: PairSide { sample(1000, $0) }, seed: 42)
        #expect(m.pairs == 31)
        let paired = Statistics(m.ratios)
        // Only pairs that straddle a phase edge see it: the median and the CI stay at 2.
        #expect(abs(paired.median - 2) < 1e-3 && paired.ci95High - paired.ci95Low < 1e-3, "\(paired)")
        // Each side alone carries the phase: its samples spread by the 1.4× phase, and the CI of the
        // ratio of the two medians (the unpaired way) is far wider.
        let sa = Statistics(m.a.perOp), sb = Statistics(m.b.perOp)
        #expect(sa.max / sa.min > 1.35 && sb.max / sb.min > 1.35)
        #expect(sa.ci95Low / sb.ci95High < 1.9 || sa.ci95High / sb.ci95Low > 2.1)
        // and the order inside pairs is drawn, not fixed
        #expect(m.aFirst > 0 && m.aFirst < 31)
    }

    @Test func aPreemptedHalfRetakesTheWholePair() throws {
        let config = SamplerConfig(samples: 5, warmup: 0, minSampleNs: 1_000_000)
        var bCalls = 0
        let a = PairSide { n in TimedSample(ns: UInt64(1000 * n), stolenNs: 0) }
        let b = PairSide { n in
            bCalls += 1
            // the 6th call of b (a timed sample, after 3 calibration calls) is preempted
            return TimedSample(ns: UInt64(1000 * n), stolenNs: bCalls == 6 ? UInt64(500 * n) : 0)
        }
        let m = try Sampler.runPaired(config, a: a, b: b, seed: 1)
        #expect(m.pairs == 5 && m.a.retaken == 1 && m.b.retaken == 1)
        #expect(m.a.perOp.count == m.b.perOp.count)
    }
}

extension ProcessSpawningTests {
@Suite struct AnatomyTests {
    static func context() -> RunContext {
        var o = RunOptions()
        o.sampler = SamplerConfig(samples: 7, warmup: 1, minSampleNs: 1_000_000)
        return RunContext(options: o, environment: Environment.read())
    }

    static func run(_ mechanism: String) throws -> [Record] {
        let h = AnatomyHarness()
        return try h.run(CaseSpec(harness: "anatomy", mechanism: mechanism, tasks: AnatomyHarness.pairs.contains(mechanism) ? 2 : 1),
                         context: context())
    }

    @Test func aLoneSchedYieldAndASystemCallSwitchNever() throws {
        for m in ["getppid", "sched-yield"] {
            let r = try #require(try Self.run(m).first)
            let spo = try #require(r.switchesPerOp)
            #expect(r.expectedSwitchesPerOp == 0)
            // A timer tick may preempt once in a while; a lone yield that switched (another task was
            // runnable on the CPU: other test suites run beside this one) counts ~1 and must say so.
            #expect(spo < 0.01 || (!r.valid && r.note.contains("expected none")), "\(m): \(spo) switches per call, \(r.note)")
        }
    }

    @Test func aPageFaultIsOneFaultPerTouchAndNoSwitch() throws {
        let r = try #require(try Self.run("page-fault").first)
        #expect(r.metric == "per_fault" && r.pageSizeBytes == Int(sysconf(Int32(_SC_PAGESIZE))))
        if let f = r.factNumber(AnatomyHarness.faultsPerTouchKey) {
            #expect(abs(f - 1) < 0.05, "\(f) faults per touch")
        } else {
            #expect(r.note.contains("not counted"))
        }
    }

    @Test func theYieldPairSwitchesOncePerSwitchOnBothSides() throws {
        let rows = try Self.run("yield")
        #expect(Set(rows.map(\.metric)) == ["process_switch", "thread_switch", "process_over_thread", "process_minus_thread", "ipc_alone"])
        for metric in ["process_switch", "thread_switch"] {
            let r = try #require(rows.first { $0.metric == metric })
            // Two tasks taking turns: a round trip is 2 switches (the row keeps the round trip's count).
            RingTests.checkSwitchCount(r, expected: 2, "\(metric) per round trip")
            #expect(r.cpusSeen == "0,0" || r.cpusSeen.split(separator: ",").count == 2)
        }
        let ratio = try #require(rows.first { $0.metric == "process_over_thread" })
        #expect(ratio.unit == "ratio" && ratio.factNumber(PairedMeasured.pairsKey) == 7)
    }

    @Test func theWakeIsTimedWithoutASwitchAndTheSleepWithOne() throws {
        let h = AnatomyHarness()
        let rows = try h.run(CaseSpec(harness: "anatomy", mechanism: "wake-sleep", tasks: 2), context: Self.context())
        #expect(rows.map(\.metric) == ["process_wake", "process_wake_none", "process_wake_path", "process_sleep",
                                       "thread_wake", "thread_wake_none", "thread_wake_path", "thread_sleep"])
        for kind in ["process", "thread"] {
            let wake = try #require(rows.first { $0.metric == "\(kind)_wake" })
            let none = try #require(rows.first { $0.metric == "\(kind)_wake_none" })
            let sleep = try #require(rows.first { $0.metric == "\(kind)_sleep" })
            // The waker's own switch count across its FUTEX_WAKE calls: 0 (a sample with one is taken again).
            let wakeSwitches = try #require(wake.switchesPerOp)
            #expect(wakeSwitches < 0.001 || !wake.valid, "\(kind): \(wakeSwitches) switches per wake, \(wake.note)")
            #expect(wake.expectedSwitchesPerOp == 0 && sleep.expectedSwitchesPerOp == 1)
            // Each wake found its waiter, asleep (S) before and runnable (R) after; the second found none.
            #expect(abs((wake.factNumber(AnatomyHarness.wokenKey) ?? 0) - 1) < 0.001 || !wake.valid)
            #expect(none.factNumber(AnatomyHarness.wokenKey) == 0 || !none.valid)
            #expect((wake.factNumber(AnatomyHarness.stateChecksKey) ?? 0) >= 14)
            #expect((wake.fact(AnatomyHarness.waiterBeforeKey) == "S" && wake.fact(AnatomyHarness.waiterAfterKey) == "R") || !wake.valid,
                    "\(kind): \(wake.factsText)")
            // The sleeper switched out once per sleep.
            let sleepSwitches = try #require(sleep.switchesPerOp)
            #expect(abs(sleepSwitches - 1) < 0.001 || !sleep.valid, "\(kind): \(sleepSwitches) switches per sleep, \(sleep.note)")
            #expect(wake.cpusSeen == String(wake.cpus[0]) || !wake.valid, "\(wake.cpusSeen)")
        }
    }

    @Test func everyPartIsPresentOrSaysWhyNot() throws {
        for m in ["avx512", "amx", "ibpb"] {
            let rows = try Self.run(m)
            if let na = rows.first(where: { $0.metric == "not_available" }) {
                #expect(rows.count == 1)
                #expect(!(na.fact(AnatomyHarness.notAvailableKey) ?? "").isEmpty)
                #expect(na.note.hasPrefix("n/a: "))
            } else {
                #expect(rows.count == 4, "\(m): \(rows.map(\.metric))")
            }
            if m != "ibpb", AnatomyHarness.xsave() != nil {
                #expect(rows.allSatisfy { $0.factNumber(AnatomyHarness.xsaveBytesKey) ?? 0 >= 512 })
            }
        }
    }
}
}

@Suite struct AnatomyPresentationTests {
    @Test func thePartsAddUpAndThePredictionIsShown() throws {
        let a = try #require(SwitchAnatomy.of(AnatomyFixture.run(ratio: 1.1)))
        let sum = [a.privilege, a.scheduler, a.switchProper, a.addressSpace].compactMap { $0 }.reduce(0, +)
        #expect(abs(sum - 1540) < 20)
        // an invalid row leaves the parts that need it out, and says so
        let bad = try #require(SwitchAnatomy.of(AnatomyFixture.run(ratio: 1.1, valid: false)))
        // (the prediction is made of parts timed alone: it stays; the part "sleep − yield switch" goes)
        #expect(bad.processSwitch == nil && bad.sleepOverYield == nil && bad.predictedFutex != nil && bad.privilege != nil
                && bad.invalid == ["`yield process_switch`"])
        // predicted futex process switch: the sleep 1600 + FUTEX_WAKE with none 380 + the wake-up path 620,
        // the yield switch plus the three parts timed alone
        #expect(abs((a.predictedFutex ?? 0) - 2600) < 20)
        #expect(abs((a.processSwitch ?? 0) + (a.sleepOverYield ?? 0) + (a.wakeNone ?? 0) + (a.wakePath ?? 0) - 2600) < 20)
        // and the four hand-offs: the pipe takes its own calls alone (700) in place of the futex ones (900)
        let byName = Dictionary(uniqueKeysWithValues: a.handOffs.map { ("\($0.ipc) \($0.kind.rawValue)", $0) })
        #expect(abs((byName["futex thread"]?.predicted ?? 0) - 2500) < 20 && abs((byName["pipe process"]?.predicted ?? 0) - 2400) < 20)
        #expect(abs((byName["pipe thread"]?.ratio ?? 0) - 2300 / 2450) < 0.02)
        // a run without the wake-sleep rows predicts nothing
        var old = AnatomyFixture.run(ratio: 1.1)
        old.records.removeAll { $0.mechanism == "wake-sleep" }
        #expect(SwitchAnatomy.of(old)?.predictedFutex == nil)
        for lang in Language.allCases {
            let md = try #require(AnatomyHarness().markdownSection(AnatomyFixture.run(ratio: 1.1), lang: lang))
            #expect(md.contains("anatomy.svg"))
            #expect(AnatomyHarness().plots(AnatomyFixture.run(ratio: 1.1), lang: lang).map(\.name) == ["anatomy.svg"])
            #expect(AnatomyHarness().notesSection([AnatomyFixture.run(ratio: 1.1)], lang: lang) != nil)
        }
        #expect(AnatomyHarness().plots(ReportFixture.basic, lang: .en).isEmpty)
    }

    @Test func theChineseTextHasNoEnglishProse() throws {
        var run = AnatomyFixture.run(ratio: 1.1)
        let h = AnatomyHarness()
        run.records.append(h.notAvailable(CaseSpec(harness: "anatomy", mechanism: "amx", tasks: 2), cpu: 0, why: "no AMX here (CPUID 7 EDX bit 24)"))
        run.records.append(h.notAvailable(CaseSpec(harness: "anatomy", mechanism: "ibpb", tasks: 2), cpu: 0,
                                          why: "prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE) refused: Operation not permitted (the kernel's spectre_v2_user mitigation is not under prctl control here)"))
        let texts = [try #require(h.markdownSection(run, lang: .zh)), try #require(h.notesSection([run], lang: .zh))]
            + h.plots(run, lang: .zh).map { $0.contents.replacingOccurrences(of: "<[^>]*>", with: "\n", options: .regularExpression) }
        for t in texts { #expect(LeakCheck.leaks(t).isEmpty, "\(LeakCheck.leaks(t).prefix(6))") }
        #expect(texts[0].contains("`Operation not permitted`"))
    }

    /// Every part the harness can write has a name for people: the paired rows' four names follow the
    /// sides' names (`<a>_switch`, `<a>_minus_<b>`, `<a>_over_<b>`), the two derived ones say they are paired.
    @Test func everyPartHasItsName() {
        for p in AnatomyHarness.pairedPartNames {
            for metric in ["\(p.a)_switch", "\(p.b)_switch", "\(p.a)_minus_\(p.b)", "\(p.a)_over_\(p.b)"] {
                for lang in Language.allCases { #expect(!AnatomyHarness.partName("yield", metric, lang).hasPrefix("`"), "\(metric)") }
            }
        }
        #expect(AnatomyHarness.partName("yield", "process_minus_thread", .en) == "step 1 = process − thread, paired")
        #expect(AnatomyHarness.partName("yield", "process_over_thread", .zh) == "进程 ÷ 线程（成对测量）")
        #expect(AnatomyHarness.partName("avx512", "dirty_switch", .en) == "thread switch, vector registers in use")
        #expect(AnatomyHarness.partName("getppid", "per_call", .en) == "privilege switch: `getppid` round trip")
        #expect(AnatomyHarness.partName("wake-sleep", "process_wake_none", .en) == "`FUTEX_WAKE` with no waiter (processes)")
        #expect(AnatomyHarness.partName("wake-sleep", "thread_sleep", .zh) == "在 `FUTEX_WAIT` 里进入睡眠，直到被唤醒的线程开始运行（一次切换）")
        #expect(AnatomyHarness.partName("amx", "not_available", .en) == "not measured here")
        #expect(AnatomyHarness.partName("yield", "something_new", .en) == "`something_new`")
    }
}
