import ArgumentParser
import SwitchBench

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the environment fingerprint stored with every run.")

    func run() throws {
        let env = Environment.read()
        for (k, v) in env.lines { print("\(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(v)") }
    }
}
