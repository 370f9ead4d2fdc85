import Foundation

/// The memory harness's presentation (claim C8, 一是降低了系统内存): plain functions over records.
public enum MemoryPresentation {
    static let kinds = ["process", "thread", "asm", "swift-task"]

    static func rows(_ records: [Record]) -> [Record] {
        records.filter { $0.harness == "memory" }
    }

    static func find(_ records: [Record], _ mechanism: String, _ n: Int, _ metric: String) -> Record? {
        records.first { $0.mechanism == mechanism && $0.tasks == n && $0.metric == metric }
    }

    /// user + kernel bytes per task (the memory a parked task really costs), nil when not measured.
    static func total(_ records: [Record], _ mechanism: String, _ n: Int) -> Double? {
        guard let u = ManyFormat.median(find(records, mechanism, n, "user_bytes_per_task")),
              let k = ManyFormat.median(find(records, mechanism, n, "kernel_bytes_per_task")) else { return nil }
        return u + max(k, 0)
    }

    /// Bytes per task by kind and N: user, kernel, their sum, address space reserved, stack reserve, the cross-check.
    public static func table(_ records: [Record], language: Language) -> String {
        let rs = rows(records)
        guard !rs.isEmpty else { return "" }
        let zh = language == .zh
        let header = zh
            ? ["种类", "N", "用户态内存/任务", "内核内存/任务", "合计", "地址空间/任务", "栈预留", "与 /proc/meminfo 对照"]
            : ["kind", "N", "user memory / task", "kernel memory / task", "total", "address space / task", "stack reserve", "cross-check with /proc/meminfo"]
        var lines: [[String]] = []
        for m in kinds {
            let ns = Set(rs.filter { $0.mechanism == m }.map(\.tasks)).sorted()
            for n in ns {
                let user = find(rs, m, n, "user_bytes_per_task")
                if let reason = ManyFormat.naReason(user) {
                    lines.append([ManyFormat.kind(m, language), ManyFormat.count(n), "n/a", "n/a", "n/a", "n/a", "",
                                  (zh ? "未运行：" : "not run: ") + reason])
                    continue
                }
                let check = find(rs, m, n, "meminfo_bytes_per_task")
                let checkText: String
                if let c = check {
                    let part = c.note.components(separatedBy: "; ").first { $0.hasPrefix("cross-check:") }?
                        .components(separatedBy: "; user + kernel").first ?? ""
                    let verdict = !c.valid ? (zh ? "不一致（>20 %）" : "**disagree (> 20 %)**")
                        : c.note.contains("too small") ? (zh ? "总量太小，不作判断" : "too small to judge")
                        : (zh ? "一致（≤20 %）" : "agree (≤ 20 %)")
                    checkText = verdict + (part.isEmpty ? "" : ": " + part.replacingOccurrences(of: "cross-check: ", with: ""))
                } else { checkText = "" }
                let stack = user?.footprintBytes ?? 0
                lines.append([ManyFormat.kind(m, language), ManyFormat.count(n),
                              ManyFormat.bytes(ManyFormat.median(user)),
                              ManyFormat.bytes(ManyFormat.median(find(rs, m, n, "kernel_bytes_per_task"))),
                              ManyFormat.bytes(total(rs, m, n)),
                              ManyFormat.bytes(ManyFormat.median(find(rs, m, n, "address_space_bytes_per_task"))),
                              stack > 0 ? ManyFormat.bytes(Double(stack)) : (zh ? "无" : "none"),
                              checkText])
            }
        }
        let caption = zh
            ? "每个挂起任务的内存（N 个任务同时存活，均在等待输入）。用户态：进程为子进程 PSS 之和，线程与 asm 协程为本进程 RSS 增长，Swift task 为堆增长；内核：/proc/meminfo 中 KernelStack + PageTables + Slab 的增长。栈预留为各机制的默认值（pthread 8 MiB，协程 256 KiB），除非用 --stack-size 指定。\n\n"
            : "Memory per parked task (N tasks alive at once, each waiting for input). User: Σ PSS of the children for processes, this process's RSS growth for threads and asm coroutines, heap growth for Swift tasks; kernel: growth of KernelStack + PageTables + Slab in /proc/meminfo. Stack reserves are each mechanism's default (pthread 8 MiB, coroutine 256 KiB) unless --stack-size set them.\n\n"
        return caption + ManyFormat.table(header, lines)
    }

    /// C8: at the largest N where process, thread and asm coroutine were all measured, a coroutine costs
    /// less memory (user + kernel) per task than a thread, and a thread less than a process.
    public static func claim(_ records: [Record], language: Language) -> ManyClaim {
        let rs = rows(records)
        let zh = language == .zh
        let rule = zh
            ? "在进程、线程、asm 协程都测到的最大 N 上，比较每个任务的用户态 + 内核内存：协程 < 线程 < 进程 则成立；任一顺序相反则不成立；缺数据则无法判定。"
            : "At the largest N where process, thread and asm coroutine were all measured, compare user + kernel memory per task: coroutine < thread < process holds; either order reversed does not hold; missing data is inconclusive."
        let common = Set(rs.filter { $0.mechanism == "process" && $0.stats != nil }.map(\.tasks))
            .intersection(rs.filter { $0.mechanism == "thread" && $0.stats != nil }.map(\.tasks))
            .intersection(rs.filter { $0.mechanism == "asm" && $0.stats != nil }.map(\.tasks))
        guard let n = common.max(), let p = total(rs, "process", n), let t = total(rs, "thread", n), let a = total(rs, "asm", n) else {
            return ManyClaim(id: "C8", verdict: .inconclusive, rule: rule,
                             text: zh ? "没有在同一 N 上测到进程、线程和协程的内存。" : "no N where process, thread and coroutine memory were all measured.")
        }
        let s = total(rs, "swift-task", n)
        let vmT = ManyFormat.median(find(rs, "thread", n, "address_space_bytes_per_task"))
        let vmA = ManyFormat.median(find(rs, "asm", n, "address_space_bytes_per_task"))
        let holds = a < t && t < p
        let verdict: ManyClaim.Verdict = holds ? .holds : .doesNotHold
        let B = ManyFormat.bytes
        let text: String
        if zh {
            text = "N = \(ManyFormat.count(n)) 时每个任务（用户态 + 内核）：进程 \(B(p))，线程 \(B(t))，asm 协程 \(B(a))"
                + (s.map { "，Swift task \(B($0))" } ?? "")
                + String(format: "；线程是协程的 %.1f 倍，进程是线程的 %.1f 倍。", t / a, p / t)
                + "预留地址空间：线程 \(B(vmT))，协程 \(B(vmA))。"
        } else {
            text = "per task at N = \(ManyFormat.count(n)) (user + kernel): process \(B(p)), thread \(B(t)), asm coroutine \(B(a))"
                + (s.map { ", Swift task \(B($0))" } ?? "")
                + String(format: "; a thread costs %.1f× a coroutine, a process %.1f× a thread.", t / a, p / t)
                + " Address space reserved: thread \(B(vmT)), coroutine \(B(vmA))."
        }
        return ManyClaim(id: "C8", verdict: verdict, rule: rule, text: text)
    }
}
