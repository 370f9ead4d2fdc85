/// A parameter of a case that is not one of `CaseKey`'s fixed fields: a name, a whole-number value and
/// the unit its `Name` fixes. It is part of the key (two rows that differ only in a parameter are two
/// cases), it has its own CSV column (`Name.column`, docs/csv.md), and it is never written into a metric
/// name or a free-text field. A new parameter is one new `Name` case (and its line in docs/csv.md).
public struct CaseParameter: Hashable, Sendable, Codable, Comparable {
    public enum Name: String, CaseIterable, Sendable, Codable {
        /// events: tasks made ready at once per burst (K).
        case burst
        /// tlb: which knee of a curve a fact row describes (1 = the first-level TLB's reach).
        case tlbLevel = "tlb_level"

        /// The CSV column that holds it (empty cell: the row has no such parameter).
        public var column: String { rawValue }
        /// The unit of its value.
        public var unit: String {
            switch self {
            case .burst: return "tasks"
            case .tlbLevel: return "level"
            }
        }
    }

    public var name: Name
    public var value: Int
    public var unit: String { name.unit }

    public init(_ name: Name, _ value: Int) {
        self.name = name
        self.value = value
    }

    public static func < (a: CaseParameter, b: CaseParameter) -> Bool {
        (a.name.rawValue, a.value) < (b.name.rawValue, b.value)
    }

    /// `name=value`, as labels show it.
    public var label: String { "\(name.rawValue)=\(value)" }
}

extension Array where Element == CaseParameter {
    /// The value of the parameter `name`, nil when the case has none.
    public subscript(_ name: CaseParameter.Name) -> Int? {
        get { first { $0.name == name }?.value }
        set {
            removeAll { $0.name == name }
            if let newValue { append(CaseParameter(name, newValue)) }
            sort()
        }
    }
}
