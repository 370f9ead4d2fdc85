import ArgumentParser
import SwitchBench

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List harnesses, their mechanisms and placements.")

    func run() throws {
        for h in Registry.harnesses {
            print("\(h.id) — \(h.summary) [\(h.claims.joined(separator: ", "))]")
            for m in h.mechanisms { print("    \(m.id.padding(toLength: max(16, m.id.count), withPad: " ", startingAt: 0)) \(m.summary)") }
            print("    placements: \(h.placements.map(\.rawValue).joined(separator: ", "))")
        }
        print("""

        placements:
            same-cpu   every task pinned to one CPU: each hand-off is a real context switch
            cross-cpu  tasks pinned to distinct CPUs, nearest first (SMT sibling, same LLC, other NUMA node)
            unpinned   the scheduler decides
        """)
    }
}
