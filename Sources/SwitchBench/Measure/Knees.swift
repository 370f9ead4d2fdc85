/// TLB sweep analysis (placeholder).
public enum TLBAnalysis {
    public static func factRecords(_ rows: [Record], hugeNote: String, cpu: Int) -> [Record] { [] }
}
