import ArgumentParser
import SwitchBench

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the environment fingerprint stored with every run.",
        discussion: """
            --machine-id prints only this machine's id (CPU model, CPU family and model numbers, online CPU count, virtualization as a slug, e.g. \
            intel-xeon-6-207-2cpu-kvm), the name of its CI baseline results/baselines/<machine id>.csv.
            """)

    @Flag(help: "Print only this machine's id (e.g. intel-xeon-2cpu-kvm), nothing else.")
    var machineID = false

    func run() throws {
        let env = Environment.read()
        if machineID {
            print(env.machineID)
            return
        }
        for (k, v) in env.lines { print("\(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(v)") }
    }
}
