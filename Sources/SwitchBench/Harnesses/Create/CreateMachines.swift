import Foundation

// The create harness's part of machines.md (`switchbench report A B …`): each run's creation costs and
// the zombie check, read from the typed facts its rows carry.

/// An exec row of the create harness with the program it exec'ed (nil when not recorded).
public struct MachineCreation: Equatable, Sendable {
    public var mechanism: String
    public var cost: MachineTiming
    public var program: ExecProgram?
}

extension MachineColumn {
    /// The create harness's `create_cleanup` rows, by mechanism in run order, with the program the exec rows ran.
    public var creationCosts: MachineCell<[MachineCreation]> {
        guard ran("create") else { return .notMeasured }
        return .value(run.records(harness: "create").filter { $0.metric == "create_cleanup" && $0.footprintBytes == 0 }
            .compactMap { r in MachineTiming(r).map { MachineCreation(mechanism: r.mechanism, cost: $0, program: ExecProgram.of(r)) } })
    }

    /// The zombie check (create harness); `.missing` when create ran without it or the CSV does not hold it.
    public var zombie: MachineCell<(fact: ZombieFact, valid: Bool)> {
        guard ran("create") else { return .notMeasured }
        guard let r = ZombieFact.row(run), let z = ZombieFact.from(r) else { return .missing }
        return .value((z, r.valid))
    }
}

extension CreateHarness {
    public func machinesSection(_ page: MachinesPage) -> String? {
        let lang = page.lang
        var out = "## " + lang.t("Creation costs", "创建代价") + "\n\n"
        out += lang.t("""
            One op = one task created, run to its end and cleaned up (reaped, joined or destroyed), on one CPU. The exec rows name the no-op program they ran: \
            the static `switchbench-noop` (newer runs, from the minimal C parent `switchbench-proc`), or in older runs the switchbench binary (dynamic loading \
            and Swift start-up, far dearer) or `/bin/true`, so compare them only when the program is the same. Older runs also forked the suite's own large \
            process, which made fork dearer than the minimal parent's.
            """,
                      """
                      一次操作 = 在同一处理器上创建一个任务、运行到结束并清理（回收僵尸进程、`join` 或销毁）。`exec` 几行注明了执行的空程序：较新的运行是静态链接的 `switchbench-noop`（由最小的 C 父进程 `switchbench-proc` 启动），\
                      较早的运行是 `switchbench` 本身（动态链接加 Swift 运行时启动，贵得多）或 `/bin/true`，程序相同时才好比较。较早的运行还是从套件自己那个大进程 fork 的，比最小父进程的 fork 贵。
                      """) + "\n\n"
        let creations = page.columns.map(\.creationCosts)
        let mechanisms = creations.flatMap { $0.value?.map(\.mechanism) ?? [] }.orderedUnique()
        if mechanisms.isEmpty {
            out += lang.t("No run here measured creation costs.", "这里没有任何一次运行测量了创建代价。") + "\n\n"
        } else {
            var rows = mechanisms.map { m in
                (Self.machinesCreationName(m, lang), creations.map { c in
                    page.cell(c) { rows in
                        rows.first { $0.mechanism == m }.map { r in
                            page.time(r.cost) + (r.program.map { lang.t(" (`\($0.rawValue)`)", "（`\($0.rawValue)`）") } ?? "")
                        } ?? page.missing
                    }
                })
            }
            rows.append((lang.t("zombie: state before → after `waitpid`", "僵尸进程：`waitpid` 之前 → 之后的状态"), page.columns.map { c in
                page.cell(c.zombie) { z in
                    "`\(z.fact.before)` → " + (z.fact.reaped ? lang.t("gone (reaped)", "已回收，/proc 里没有了") : "`\(z.fact.after)`")
                        + Format.invalidMark(z.valid, lang)
                }
            }))
            out += page.table(lang.t("kind", "类型"), rows) + "\n\n"
        }
        return out
    }

    static func machinesCreationName(_ mechanism: String, _ lang: Language) -> String {
        lang.name(mechanism, in: Self.machinesCreationNames, else: "`\(mechanism)`")
    }
    static let machinesCreationNames: [String: (en: String, zh: String)] = [
        "fork-exit-wait": ("process: `fork` + `exit` + `waitpid`", "进程：`fork` + `exit` + `waitpid`（回收僵尸进程）"),
        "fork-exec": ("process: `fork` + `execve` + `waitpid`", "进程：`fork` + `execve` + `waitpid`"),
        "posix-spawn": ("process: `posix_spawn` + `waitpid`", "进程：`posix_spawn` + `waitpid`"),
        "pthread": ("thread: `pthread_create` + `pthread_join`", "线程：`pthread_create` + `pthread_join`"),
        "coroutine": ("coroutine: create, first switch, destroy", "协程：创建、首次切换、销毁"),
        "swift-task": ("Swift task: create, run, await", "Swift 任务：创建、运行、等待结果")]
}
