import ArgumentParser
import SwitchBench

/// `--lang en|zh` (the report layer's `Language`).
extension Language: ExpressibleByArgument {}
