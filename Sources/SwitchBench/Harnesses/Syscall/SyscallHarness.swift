import CSwitchBench
import Glibc

/// The privilege switch alone (claim C7): a system call that really enters the kernel and
/// returns, with no context switch, against a vDSO call that stays in user mode.
public struct SyscallHarness: Harness {
    public init() {}
    public let info = HarnessInfo("syscall", claims: ["C7"], summary: "user ↔ kernel round trip with no context switch (raw syscall vs vDSO)", mechanisms: [
        ("getppid", "syscall(SYS_getppid): enters the kernel every time (glibc cannot cache it)"),
        ("clock_gettime", "clock_gettime(CLOCK_MONOTONIC) through the vDSO: no kernel entry")])

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
            var r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue,
                           cpus: String(cpu), tasks: 1, metric: "per_call", samples: measured.perOp,
                           opsPerSample: measured.opsPerSample, switchesPerOp: measured.switchesPerOp,
                           expectedSwitchesPerOp: 0, counterSource: counter.source,
                           cpusSeen: String(sb_sched_getcpu()))
            r.applySampling(measured)
            r.addNote(spec.mechanism == "getppid" ? "one kernel entry and exit per op" : "user mode only (vDSO)")
            // No task to switch to: the kernel should count (almost) none. Timer ticks may preempt us rarely.
            if let spo = measured.switchesPerOp, spo > 0.01 {
                r.invalidate(String(format: "kernel counted %.3f switches per call, expected none", spo))
            }
            return [r]
        }
    }
}
