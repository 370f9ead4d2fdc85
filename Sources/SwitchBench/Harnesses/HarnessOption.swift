/// An option one harness (or a few) owns, declared in its folder: `--<name> VALUE` on `run` and
/// `--all`, listed under "Harness options" in `--help`, validated before any case runs and handed to
/// the harness through `RunOptions` (`options[option]`). The CLI knows none of them by name: it asks
/// `Registry.options`. Options every harness reads (mechanism, placement, tasks, …) stay `RunFlags`'.
///
/// The value is a comma list of whole numbers (a byte count takes a K/M/G suffix); a single-value
/// option is a list of one.
public struct HarnessOption: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A comma list of whole numbers in the range, each "a task count" (`what`).
        case numbers(ClosedRange<Int>, what: String)
        /// A comma list of byte counts (0, 4096, 16K, 1M) up to `max`.
        case bytes(max: Int)
        /// One whole number, at least 0.
        case index
    }

    /// The long name without dashes ("population" is `--population`).
    public var name: String
    public var kind: Kind
    /// One line for `--help` (which harnesses read it, the default).
    public var help: String
    /// What a valid value looks like ("10,1000"), for error messages and help.
    public var example: String

    public init(_ name: String, _ kind: Kind, example: String, help: String) {
        (self.name, self.kind, self.example, self.help) = (name, kind, example, help)
    }

    public var flag: String { "--\(name)" }

    /// The value as given on the command line, parsed; throws `.usage` with a one-line reason.
    public func parse(_ text: String) throws -> [Int] {
        switch kind {
        case .index:
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw SwitchBenchError.usage("\(flag) '\(text)' is not a whole number")
            }
            guard n >= 0 else { throw SwitchBenchError.usage("\(flag) \(n) is negative") }
            return [n]
        case .numbers(let range, let what):
            return try Self.list(text, flag, example: example) {
                guard let n = Int($0), range.contains(n) else {
                    throw SwitchBenchError.usage("\(flag) '\($0)' is not \(what) from \(range.lowerBound) to \(range.upperBound)")
                }
                return n
            }
        case .bytes(let max):
            return try Self.list(text, flag, example: example) { try Self.bytes($0, name: flag, max: max) }
        }
    }

    /// The items of a comma list through `parse`; throws `.usage` when it is empty.
    public static func list<T>(_ s: String, _ name: String, example: String, _ parse: (String) throws -> T) throws -> [T] {
        let items = try s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map(parse)
        if items.isEmpty { throw SwitchBenchError.usage("\(name) is empty; expected e.g. \(example)") }
        return items
    }

    /// "4096", "16K", "2M", "1G" → bytes; throws `.usage` for anything else or above max.
    public static func bytes(_ s: String, name: String, max: Int) throws -> Int {
        var t = s.uppercased()
        var mult = 1
        if let last = t.last, let m = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last)] {
            mult = m
            t.removeLast()
            if t.hasSuffix("I") { t.removeLast() }
        } else if t.hasSuffix("B") { t.removeLast() }
        guard let v = Int(t), v >= 0 else {
            throw SwitchBenchError.usage("\(name) '\(s)' is not a byte count (e.g. 0, 4096, 16K, 1M)")
        }
        let (bytes, overflow) = v.multipliedReportingOverflow(by: mult)
        guard !overflow, bytes <= max else {
            throw SwitchBenchError.usage("\(name) '\(s)' is too large; at most \(max >> 20) MiB")
        }
        return bytes
    }

    /// Takes every declared `--name VALUE` / `--name=VALUE` out of a command line (up to a `--`), so the
    /// rest can go to the argument parser; throws `.usage` for a name without a value or given twice.
    public static func extract(_ arguments: [String], options: [HarnessOption]) throws -> (rest: [String], given: [String: String]) {
        var rest: [String] = [], given: [String: String] = [:]
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { rest += arguments[i...]; break }
            let (flag, inline) = a.split(separator: "=", maxSplits: 1).map(String.init).splitPair
            guard let option = options.first(where: { $0.flag == flag }) else {
                rest.append(a)
                i += 1
                continue
            }
            let value: String
            if let inline { value = inline; i += 1 } else {
                guard i + 1 < arguments.count else { throw SwitchBenchError.usage("\(flag) needs a value, e.g. \(flag) \(option.example)") }
                value = arguments[i + 1]
                i += 2
            }
            guard given[option.name] == nil else { throw SwitchBenchError.usage("\(flag) is given twice") }
            given[option.name] = value
        }
        return (rest, given)
    }
}

private extension Array where Element == String {
    /// ["--a", "b"] → ("--a", "b"); ["--a"] → ("--a", nil).
    var splitPair: (String, String?) { (self.first ?? "", count > 1 ? self[1] : nil) }
}

extension RunOptions {
    /// The value given for a harness's option; nil when not given (the harness's default applies).
    public subscript(option: HarnessOption) -> [Int]? {
        get { harnessValues[option.name] }
        set { harnessValues[option.name] = newValue }
    }
}
