import Foundation

/// Markdown sections of the coroutine, create and blocking harnesses (claims C3, C4, C6).
extension MarkdownExporter {
    /// Claim C3: every kind of switch on one CPU, as a ratio to the asm coroutine switch.
    static let switchCostByKind: Section = { run in
        let coro = run.records(harness: "coroutine")
        guard !coro.isEmpty else { return nil }
        let asm = run.find("coroutine", "asm", "same-cpu", metric: "per_switch")
        let base = median(asm)
        var t = MarkdownTable(["kind", "row (harness/mechanism, metric)", "per switch", "÷ asm coroutine",
                               "kernel switches / op", "valid", "what one switch includes"])
        func add(_ kind: String, _ r: Record?, _ what: String) {
            guard let r else { return }
            t.add([kind, "\(r.harness)/\(r.mechanism) \(r.placement), \(r.metric)", humanTime(median(r)),
                   ratio(median(r), base), r.switchesPerOp.map { String(format: "%.3f", $0) } ?? "n/a",
                   r.valid ? "yes" : "**no**", what])
        }
        let syscall = run.find("syscall", "getppid", "same-cpu", metric: "per_call")
        add("system call (no switch)", syscall, "user → kernel → user, no other task runs (claim C7)")
        add("asm coroutine", asm, "callee-saved registers + stack pointer + FP control words, in user mode; both sides in one hand-off loop")
        add("asm coroutine (resume/yield)", run.find("coroutine", "asm-generator", "same-cpu", metric: "per_switch"),
            "the same switch between a caller and a generator body: plus a mispredicted return")
        let uc = run.find("coroutine", "ucontext", "same-cpu", metric: "per_switch")
        add("ucontext", uc, "the same plus the signal mask: one rt_sigprocmask system call per swapcontext")
        add("Swift task", run.find("coroutine", "swift-task", "same-cpu", metric: "per_switch"),
            "continuation resume + suspend; the executor runs the other task's job (one thread)")
        add("Swift task (Task.yield)", run.find("coroutine", "swift-task-yield", "same-cpu", metric: "per_switch"),
            "Task.yield(): re-enqueue behind the other task (one thread)")
        add("Swift task (global executor)", run.find("coroutine", "swift-task-global", "unpinned", metric: "per_switch"),
            "continuation ping-pong on the default thread pool (unpinned; may park and wake threads)")
        add("thread", run.find("thread", "futex", "same-cpu", metric: "per_switch", tasks: 2),
            "kernel context switch between two threads of one process (futex wake + wait)")
        add("process", run.find("process", "futex", "same-cpu", metric: "per_switch", tasks: 2),
            "kernel context switch between two processes (futex wake + wait, address-space change)")

        var facts: [String] = []
        if let uc, let ucMed = median(uc), let base, let sys = median(syscall) {
            facts.append(String(format: "ucontext costs %@ more per switch than the asm switch; one getppid system call costs %@ here.",
                                humanTime(ucMed - base), humanTime(sys)))
        }
        if let count = run.find("coroutine", "ucontext", "same-cpu", metric: "rt_sigprocmask_per_switch") {
            facts.append(String(format: "rt_sigprocmask calls per ucontext switch (tracepoint): %.2f.", median(count) ?? .nan))
        } else if let uc, let note = uc.note.components(separatedBy: "; ").first(where: { $0.hasPrefix("rt_sigprocmask calls per switch") }) {
            facts.append(note + ".")
        }
        return """
        ## Switch cost by kind (claim C3)

        Same CPU. A coroutine switch stays in user mode: the kernel counts no context switch for it
        (`kernel switches / op` is the kernel's own count per round trip; expected 0, valid up to 0.01).
        Thread and process rows are `per_switch` of the futex ring with 2 tasks. The system call row
        is one kernel entry and exit without any switch of task.

        \(t.text)

        \(facts.map { "- " + $0 }.joined(separator: "\n"))

        \(environmentLine(run))
        """
    }

    /// Claim C6: creation + cleanup of each kind of task, and the zombie fact.
    static let creationCosts: Section = { run in
        let rows = run.records(harness: "create").filter { $0.metric == "create_cleanup" }
        let zombie = run.records(harness: "create").first { $0.mechanism == "zombie" }
        guard !rows.isEmpty || zombie != nil else { return nil }
        let thread = median(rows.first { $0.mechanism == "pthread" })
        var t = MarkdownTable(["kind", "create + clean up", "÷ pthread", "kernel switches / op", "valid", "what one op includes"])
        for r in rows {
            t.add([r.mechanism, humanTime(median(r)), ratio(median(r), thread),
                   r.switchesPerOp.map { String(format: "%.2f", $0) } ?? "n/a", r.valid ? "yes" : "**no**", r.note])
        }
        var text = """
        ## Creation costs (claim C6)

        One op = one task created, run to its end and cleaned up (reaped, joined or destroyed), on one CPU.

        \(t.text)
        """
        if let zombie {
            text += "\n\n**Zombie (a fact, not a timing):** " + zombie.note + (zombie.valid ? "." : " — **not shown**.")
        }
        return text + "\n\n" + environmentLine(run)
    }

    /// Claim C4: the blocking experiment.
    static let blockingResult: Section = { run in
        let rows = run.records(harness: "blocking")
        guard !rows.isEmpty else { return nil }
        var t = MarkdownTable(["coroutines", "M", "longest gap, blocking read", "longest gap, non-blocking read", "ratio",
                               "others' turns during the read (blocking, non-blocking)",
                               "voluntary switches / repetition (blocking, non-blocking)", "valid"])
        var mechanisms: [String] = []
        for r in rows where !mechanisms.contains(r.mechanism) { mechanisms.append(r.mechanism) }
        for m in mechanisms {
            let b = rows.first { $0.mechanism == m && $0.metric == "max_gap_blocking" }
            let n = rows.first { $0.mechanism == m && $0.metric == "max_gap_nonblocking" }
            func turns(_ metric: String) -> String {
                (rows.first { $0.mechanism == m && $0.metric == metric }?.stats?.median).map { String(format: "%.0f", $0) } ?? "n/a"
            }
            t.add([m, String(b?.tasks ?? n?.tasks ?? 0), humanTime(median(b)), humanTime(median(n)), ratio(median(b), median(n)),
                   "\(turns("turns_during_read_blocking")), \(turns("turns_during_read_nonblocking"))",
                   "\(b?.switchesPerOp.map { String(format: "%.2f", $0) } ?? "n/a"), \(n?.switchesPerOp.map { String(format: "%.2f", $0) } ?? "n/a")",
                   validity([b, n])])
        }
        let delay = (rows.first?.note.components(separatedBy: "; ").filter { !$0.hasPrefix("noisy") }.prefix(3) ?? [])
            .joined(separator: "; ")
        return """
        ## A blocking call stalls every coroutine on its thread (claim C4)

        \(delay). Medians over the repetitions. With a blocking `read` the thread sleeps in the kernel
        (one voluntary switch) and no other coroutine gets a turn for ≈ T; with `O_NONBLOCK` + yield the others
        keep running and wait only a few switches. The non-blocking thread never sleeps, so on a busy machine the
        kernel preempts it now and then (involuntary switches, in the row notes) and the longest gap includes those waits.

        \(t.text)

        \(environmentLine(run))
        """
    }
}
