import CSwitchBench
import Glibc

/// The privilege switch alone (claim C7): a system call that really enters the kernel and
/// returns, with no context switch, against a vDSO call that stays in user mode.
public struct SyscallHarness: Harness {
    /// The privilege switch alone, per call: no task switch.
    public var switchKinds: [SwitchKind] {
        [SwitchKind(harness: id, mechanism: "getppid", metric: "per_call", tier: .privilege, en: Terms.systemCall.en, zh: Terms.systemCall.zh,
                    detail: "getppid", classRank: 0,
                   forced: ("no switch: `syscall(SYS_getppid)` enters the kernel and returns", "不切换：`syscall(SYS_getppid)` 进入内核再返回"))]
    }
    public init() {}
    public let info = HarnessInfo("syscall", claims: ["C7"], summary: "user ↔ kernel round trip with no context switch (raw syscall vs vDSO)", mechanisms: [
        ("getppid", "syscall(SYS_getppid): enters the kernel every time (glibc cannot cache it)"),
        ("clock_gettime", "clock_gettime(CLOCK_MONOTONIC) through the vDSO: no kernel entry")],
        op: "one call", section: "syscall")

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        selectedMechanisms(options).flatMap { m in
            selectedPlacements(options).map { CaseSpec(harness: id, mechanism: m, placement: $0) }
        }
    }

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let cpu = context.allowedCPUs[0]
        return try Affinity.pinned([cpu]) {
            let counter = SwitchCounter()
            var sink: Int = 0
            let measured: Measured
            switch spec.mechanism {
            case "getppid":
                measured = try Sampler.run(context.options.sampler, counter: counter) { k in
                    for _ in 0..<k { sink &+= sb_syscall_getppid() }
                }
            default:
                var ts = timespec()
                measured = try Sampler.run(context.options.sampler, counter: counter) { k in
                    for _ in 0..<k {
                        clock_gettime(CLOCK_MONOTONIC, &ts)
                        sink &+= ts.tv_nsec
                    }
                }
            }
            withExtendedLifetime(sink) {}
            let r = Self.perCallRow(harness: id, mechanism: spec.mechanism, cpu: cpu, measured: measured, counter: counter,
                                    note: spec.mechanism == "getppid" ? "one kernel entry and exit per op" : "user mode only (vDSO)")
            return [r]
        }
    }

    /// The row of calls that switch no task (`per_call`, pinned to `cpu`): the kernel's count is expected
    /// to be 0, and a row above 0.01 switches per call is invalid (timer ticks may preempt rarely; a call
    /// that switched measured something else). The syscall and anatomy harnesses' rows.
    static func perCallRow(harness: String, mechanism: String, cpu: Int, measured: Measured, counter: SwitchCounter,
                           note: String) -> Record {
        var r = Record(harness: harness, mechanism: mechanism, placement: Placement.sameCPU.rawValue,
                       cpus: [cpu], tasks: 1, metric: "per_call", samples: measured.perOp,
                       opsPerSample: measured.opsPerSample, switchesPerOp: measured.switchesPerOp,
                       expectedSwitchesPerOp: 0, counterSource: counter.source,
                       cpusSeen: String(sb_sched_getcpu()))
        r.applySampling(measured)
        r.addNote(note)
        if let spo = measured.switchesPerOp, spo > 0.01 {
            r.invalidate(String(format: "kernel counted %.3f switches per call, expected none", spo))
        }
        return r
    }
}
