import Foundation

/// Errors the CLI maps to exit codes (README.md, Usage): usage → 2, caseFailed → 1.
public enum SwitchBenchError: Error, Equatable, CustomStringConvertible {
    /// Bad input or usage: the message names the bad value and what would be valid.
    case usage(String)
    /// A case could not be measured (a task died, a system call failed).
    case caseFailed(String)

    public var description: String {
        switch self {
        case .usage(let m), .caseFailed(let m): return m
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .usage: return 2
        case .caseFailed: return 1
        }
    }
}

/// strerror for a positive errno value.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
