import Foundation

/// The kinds of switch the suite compares, cheapest first: one list for the switch-cost plot and the
/// side-by-side report (machines.md). Each is the two-task, no-footprint row of one case (`Claims.row`).
public enum SwitchKind: String, CaseIterable, Sendable {
    case syscall, coroutineAsm, coroutineGenerator, ucontext, swiftTask, swiftTaskYield
    case threadFutex, threadPipe, processFutex, processPipe

    public var harness: String {
        switch self {
        case .syscall: return "syscall"
        case .coroutineAsm, .coroutineGenerator, .ucontext, .swiftTask, .swiftTaskYield: return "coroutine"
        case .threadFutex, .threadPipe: return "thread"
        case .processFutex, .processPipe: return "process"
        }
    }

    public var mechanism: String {
        switch self {
        case .syscall: return "getppid"
        case .coroutineAsm: return "asm"
        case .coroutineGenerator: return "asm-generator"
        case .ucontext: return "ucontext"
        case .swiftTask: return "swift-task"
        case .swiftTaskYield: return "swift-task-yield"
        case .threadFutex, .processFutex: return "futex"
        case .threadPipe, .processPipe: return "pipe"
        }
    }

    /// per_call for the system call (no switch of task), per_switch for the others.
    public var metric: String { self == .syscall ? "per_call" : "per_switch" }

    /// The row of this kind in a run at a placement, nil when not measured.
    public func row(_ run: RunResult, placement: Placement = .sameCPU) -> Record? {
        Claims.row(run, harness, mechanism, metric, placement: placement)
    }

    /// "thread switch (futex)"; in Markdown the mechanism is a code span.
    public func label(_ lang: Language, markdown: Bool = false) -> String {
        let (en, zh, detail): (String, String, String?) = {
            switch self {
            case .syscall: return ("system call", "系统调用", "getppid")
            case .coroutineAsm: return ("coroutine", "协程", "asm")
            case .coroutineGenerator: return ("coroutine", "协程", "asm resume/yield")
            case .ucontext: return ("coroutine", "协程", "ucontext")
            case .swiftTask: return ("Swift task", "Swift 任务", nil)
            case .swiftTaskYield: return ("Swift task", "Swift 任务", "Task.yield")
            case .threadFutex, .threadPipe: return ("thread switch", "线程切换", mechanism)
            case .processFutex, .processPipe: return ("process switch", "进程切换", mechanism)
            }
        }()
        guard let detail else { return lang.t(en, zh) }
        let d = markdown ? "`\(detail)`" : detail
        return lang.t("\(en) (\(d))", "\(zh)（\(d)）")
    }

    /// The kinds switch-cost.svg draws.
    static let plotted: [SwitchKind] = [.coroutineAsm, .ucontext, .swiftTask, .syscall, .threadFutex, .threadPipe, .processFutex, .processPipe]
}
