/// A parameter of a case that is not one of `CaseKey`'s fixed fields: a name, a value (a whole number in
/// the unit its `Name` fixes, or one of the words its `Name` allows) and that unit. It is part of the key
/// (two rows that differ only in a parameter are two cases), it has its own CSV column (`Name.column`,
/// docs/csv.md), and it is never written into a metric name or a free-text field. A new parameter is one
/// new `Name` case (and its line in docs/csv.md).
public struct CaseParameter: Hashable, Sendable, Codable, Comparable {
    /// Column order is case order (new parameters go last: new CSV columns go at the end).
    public enum Name: String, CaseIterable, Sendable, Codable {
        /// events: tasks made ready at once per burst (K).
        case burst
        /// tlb: which knee of a curve a fact row describes (1 = the first-level TLB's reach).
        case tlbLevel = "tlb_level"
        /// blocking: how coroutine 0 reads its pipe (`BlockingHarness.ReadMode`: `blocking`, `nonblocking`).
        case readMode = "read_mode"

        /// The CSV column that holds it (empty cell: the row has no such parameter).
        public var column: String { rawValue }
        /// The unit of its value (empty for a choice of words).
        public var unit: String {
            switch self {
            case .burst: return "tasks"
            case .tlbLevel: return "level"
            case .readMode: return ""
            }
        }
        /// The words its value may be; empty when its value is a whole number.
        public var choices: [String] {
            switch self {
            case .burst, .tlbLevel: return []
            case .readMode: return BlockingHarness.ReadMode.allCases.map(\.rawValue)
            }
        }
    }

    /// A whole number (`burst`, `tlb_level`) or one of the name's `choices` (`read_mode`).
    public enum Value: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
        case number(Int)
        case word(String)

        /// The CSV cell and label text: "16", "blocking".
        public var description: String {
            switch self {
            case .number(let n): return String(n)
            case .word(let w): return w
            }
        }

        /// results.json writes the bare value (16 or "blocking"), as it did when every value was a number.
        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) { self = .number(n) } else { self = .word(try c.decode(String.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let n): try c.encode(n)
            case .word(let w): try c.encode(w)
            }
        }
    }

    public var name: Name
    public var value: Value
    public var unit: String { name.unit }

    public init(_ name: Name, _ value: Int) {
        self.name = name
        self.value = .number(value)
    }

    public init(_ name: Name, word: String) {
        self.name = name
        self.value = .word(word)
    }

    /// The parameter `name` as a CSV cell holds it: a word among the name's choices, or a whole number;
    /// nil when the text is neither.
    public init?(_ name: Name, cell: String) {
        if name.choices.isEmpty {
            guard let n = Int(cell) else { return nil }
            self.init(name, n)
        } else {
            guard name.choices.contains(cell) else { return nil }
            self.init(name, word: cell)
        }
    }

    public static func < (a: CaseParameter, b: CaseParameter) -> Bool {
        (a.name.rawValue, a.value) < (b.name.rawValue, b.value)
    }

    /// `name=value`, as labels show it.
    public var label: String { "\(name.rawValue)=\(value)" }
}

extension Array where Element == CaseParameter {
    /// The whole-number value of the parameter `name`, nil when the case has none.
    public subscript(_ name: CaseParameter.Name) -> Int? {
        get {
            guard case .number(let n)? = first(where: { $0.name == name })?.value else { return nil }
            return n
        }
        set { set(newValue.map { CaseParameter(name, $0) }, for: name) }
    }

    /// The word the parameter `name` holds (a choice such as `read_mode`), nil when the case has none.
    public func word(_ name: CaseParameter.Name) -> String? {
        guard case .word(let w)? = first(where: { $0.name == name })?.value else { return nil }
        return w
    }

    /// The CSV cells of the parameter columns (`CaseParameter.Name.allCases`), empty where the case has none.
    public var cells: [String] {
        CaseParameter.Name.allCases.map { name in first { $0.name == name }.map { "\($0.value)" } ?? "" }
    }

    /// Replaces (or, with nil, removes) the parameter `name`, keeping the list sorted.
    public mutating func set(_ parameter: CaseParameter?, for name: CaseParameter.Name) {
        removeAll { $0.name == name }
        if let parameter { append(parameter) }
        sort()
    }
}
