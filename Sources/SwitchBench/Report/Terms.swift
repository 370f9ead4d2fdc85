import Foundation

/// The one table of terms for people, in the course note's own words in Chinese (上下文切换, 用户态/内核态,
/// 快表, 页表, 缺页, 僵尸进程, 协程 …): prose, table headers and plot legends all take their words from here,
/// so a term reads the same in every file. Ids (mechanisms, placements, metrics) stay in code spans.
public enum Terms {
    public static let contextSwitch = (en: "context switch", zh: "上下文切换")
    public static let kernelSwitchCount = (en: "context switches (kernel's count)", zh: "上下文切换次数（内核统计）")
    public static let kernelSwitchesPerOp = (en: "context switches per op (kernel's count)", zh: "每次操作的上下文切换次数（内核统计）")
    public static let userMode = (en: "user mode", zh: "用户态")
    public static let kernelMode = (en: "kernel mode", zh: "内核态")
    public static let tlb = (en: "TLB", zh: "快表")
    public static let pageTable = (en: "page table", zh: "页表")
    public static let pageFault = (en: "page fault", zh: "缺页")
    public static let zombie = (en: "zombie", zh: "僵尸进程")
    public static let coroutine = (en: "coroutine", zh: "协程")
    public static let swiftTask = (en: "Swift task", zh: "Swift 任务")
    public static let thread = (en: "thread", zh: "线程")
    public static let process = (en: "process", zh: "进程")
    public static let systemCall = (en: "system call", zh: "系统调用")
    public static let privilegeSwitch = (en: "privilege switch", zh: "特权级切换")
    public static let coroutineSwitch = (en: "coroutine switch", zh: "协程切换")
    public static let threadSwitch = (en: "thread switch", zh: "线程切换")
    public static let processSwitch = (en: "process switch", zh: "进程切换")
    public static let wakeUpLatency = (en: "cross-CPU wake-up latency", zh: "跨处理器唤醒延迟")

    /// A term in a language.
    public static func t(_ term: (en: String, zh: String), _ lang: Language) -> String { lang.t(term.en, term.zh) }

    /// A placement for people: the id in English, words in Chinese (`same-cpu` → 同一处理器).
    public static func placement(_ id: String, _ lang: Language) -> String {
        guard lang == .zh else { return id }
        switch id {
        case Placement.sameCPU.rawValue: return "同一处理器"
        case Placement.crossCPU.rawValue: return "跨处理器"
        case Placement.unpinned.rawValue: return "不绑定处理器"
        default: return "`\(id)`"
        }
    }

    /// A kind of task for people (`coroutine`, `pthread`, `process`, …): words in Chinese, the id in English.
    public static func kind(_ id: String, _ lang: Language) -> String {
        guard lang == .zh else { return id }
        switch id {
        case "coroutine", "asm", "coroutines": return "协程"
        case "pthread", "thread", "threads": return "线程"
        case "process", "processes", "fork": return "进程"
        case "swift-task": return swiftTask.zh
        case "ucontext": return "`ucontext` 协程"
        default: return "`\(id)`"
        }
    }
}

extension Format {
    /// A number with three significant digits, no trailing exponent for everyday sizes, and never
    /// "-0": 0.000123 → "0.000123", 1.5 → "1.50", 48.83 → "48.8", 488.12 → "488", 15696 → "15696"; below 10⁻⁶: "0".
    public static func sig3(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "n/a" : (v > 0 ? "∞" : "-∞") }
        // Below a millionth the digits are float noise (a CV of 1.7e-14 %, a constant series): "0", never
        // "0.0000000000000170".
        if v == 0 || abs(v) < 1e-6 { return "0" }
        let a = abs(v)
        if a >= 1000 { return String(format: "%.0f", v) }
        let digits = max(0, 2 - Int(floor(log10(a))))
        let s = String(format: "%.\(digits)f", v)
        // Rounding can reach the next decade (9.996 → "10.00"): drop the extra digit.
        if let r = Double(s), abs(r) >= pow(10, Double(Int(floor(log10(a))) + 1)), digits > 0 {
            return String(format: "%.\(digits - 1)f", v)
        }
        return s
    }
}
