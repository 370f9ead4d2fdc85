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
        let plan = harnesses.flatMap { h in h.cases(context.options).map { (h, $0) } }
        let width = String(plan.count).count
        for (i, (harness, spec)) in plan.enumerated() {
            let idx = String(i + 1).leftPad(width)
            let t0 = monotonicNanoseconds()
            do {
                let records = try harness.run(spec, context: context)
                result.records += records
                let head = records.first
                let secs = Double(monotonicNanoseconds() - t0) / 1e9
                var line = "[\(idx)/\(plan.count)] \(spec.label): "
                if let head {
                    // A fact row (no timing) shows its fact, e.g. "state_before_waitpid Z".
                    let value = head.stats == nil ? head.fact(head.metric) ?? head.factsText : humanTime(head.stats?.median)
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
