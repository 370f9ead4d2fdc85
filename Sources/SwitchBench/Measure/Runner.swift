import Foundation

/// Runs the selected cases in order, reporting progress on stderr, and collects the records.
/// A case that fails is reported and the run goes on; the CLI exits 1 at the end.
public struct Runner {
    public var context: RunContext
    /// Called with one line per case (the CLI prints it to stderr).
    public var progress: (String) -> Void

    public init(context: RunContext, progress: @escaping (String) -> Void = { _ in }) {
        self.context = context
        self.progress = progress
    }

    public func run(_ harnesses: [any Harness], into result: inout RunResult) {
        var plan = harnesses.flatMap { h in h.cases(context.options).map { (h, $0) } }
        // Cases whose placement these CPUs cannot honour are not measured: one line per reason.
        var skippedByReason: [(reason: String, labels: [String])] = []
        plan.removeAll { (_, spec) in
            guard let reason = context.unhonourable(spec.placement) else { return false }
            if let i = skippedByReason.firstIndex(where: { $0.reason == reason }) {
                skippedByReason[i].labels.append(spec.label)
            } else {
                skippedByReason.append((reason, [spec.label]))
            }
            return true
        }
        for s in skippedByReason {
            let line = "skipped \(s.labels.count) case(s) (\(s.labels.joined(separator: ", "))): \(s.reason)"
            result.skipped.append(line)
            progress("switchbench: " + line)
        }
        let width = String(plan.count).count
        for (i, (harness, spec)) in plan.enumerated() {
            let idx = String(i + 1).leftPad(width)
            let t0 = monotonicNanoseconds()
            do {
                // A same-cpu case's CPU is read exactly (idle time, from that CPU): its cases are short.
                let exactCPU = spec.placement == .sameCPU ? context.cpus(for: .sameCPU, tasks: 1).cpus.first : nil
                let before = Neighbours.read(exactOn: exactCPU), suite0 = Sampler.processAndChildrenCPUNanoseconds()
                var records = try harness.run(spec, context: context)
                // How busy the other CPUs and the row's own were over the whole case, on every row (Neighbours).
                if let before, let after = Neighbours.read(exactOn: exactCPU) {
                    let suite = Double(Sampler.processAndChildrenCPUNanoseconds() &- suite0) / 1e9
                    for i in records.indices {
                        let pinned = records[i].cpus
                        let own = Set(pinned.isEmpty ? context.allowedCPUs : pinned)
                        let shares = Neighbours.shares(before: before, after: after, own: own, suiteSeconds: suite,
                                                       ticksPerSecond: Neighbours.ticksPerSecond)
                        Neighbours.apply(shares.busy, to: &records[i], sensitive: harness.neighbourSensitive)
                        if harness.runQueueSensitive { Neighbours.applyRunQueue(shares.own, to: &records[i]) }
                    }
                }
                result.records += records
                let head = records.first
                let secs = Double(monotonicNanoseconds() - t0) / 1e9
                var line = "[\(idx)/\(plan.count)] \(spec.label): "
                if let head {
                    // A fact row (no timing) shows its fact, e.g. "state_before_waitpid Z"; a value in its unit (bytes: "8 KiB").
                    let value = head.stats == nil ? head.fact(head.metric) ?? head.factsText : Format.median(head)
                    line += "\(head.metric) \(value.isEmpty ? "n/a" : value)"
                    if let s = head.switchesPerOp { line += String(format: ", %.2f switches/op", s) }
                    if records.contains(where: { !$0.valid }) { line += " — INVALID" }
                }
                progress(line + String(format: " (%.1f s)", secs))
            } catch {
                result.failures.append("\(spec.label): \(error)")
                progress("[\(idx)/\(plan.count)] \(spec.label): FAILED: \(error)")
            }
        }
    }
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
