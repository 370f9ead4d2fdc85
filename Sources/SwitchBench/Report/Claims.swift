import Foundation

/// The claims of the course note (docs/claims.md), each judged from this run's rows by a rule
/// written out beside the verdict, so a reader can check the verdict against the numbers shown.
public enum Claims {
    public enum Verdict: String, Sendable, Codable {
        case holds = "holds"
        case doesNotHold = "does not hold here"
        case inconclusive = "inconclusive"
    }

    public struct Claim: Sendable {
        public var id: String
        public var english: String
        /// The note's own words.
        public var chinese: String
        /// The rule the verdict follows from, in words.
        public var rule: String
        public var evidence: [Record]
        /// "name: value" lines: the ratios and differences the rule uses.
        public var measured: [String]
        public var verdict: Verdict
        public var why: String
        /// Fingerprint facts that explain the outcome.
        public var facts: [String]
    }

    static let notMeasured = "not measured in this run"

    public static func evaluate(_ run: RunResult) -> [Claim] {
        [c1(run), c2(run), c3(run), c4(run), c5(run), c6(run), c7(run)]
    }

    // MARK: helpers

    /// The row of a two-task, no-footprint case.
    static func row(_ run: RunResult, _ h: String, _ m: String, _ metric: String,
                    placement: Placement = .sameCPU) -> Record? {
        run.records.first {
            $0.harness == h && $0.mechanism == m && $0.metric == metric && $0.placement == placement.rawValue &&
                $0.tasks <= 2 && $0.footprintBytes == 0 && $0.stats != nil
        }
    }

    static func med(_ r: Record) -> Double { r.stats!.median }
    static func lo(_ r: Record) -> Double { r.stats!.ci95Low }
    static func hi(_ r: Record) -> Double { r.stats!.ci95High }
    static func x(_ v: Double) -> String { String(format: v >= 100 ? "%.0f×" : (v >= 10 ? "%.1f×" : "%.2f×"), v) }
    static func name(_ r: Record) -> String { "\(r.harness) \(r.mechanism) \(r.placement) \(r.metric)" }

    static func invalidWhy(_ rs: [Record]) -> String? {
        let bad = rs.filter { !$0.valid }
        guard !bad.isEmpty else { return nil }
        return "row(s) marked invalid: " + bad.map { "\(name($0)) (\($0.note))" }.joined(separator: "; ")
    }

    /// Rows whose samples spread with CV above 10 % (`noisy`): shown, but they do not decide a verdict
    /// whose margin is small (C1: a 10–20 % difference; C3 and C7 need ≥ 10× and ~5× beyond the CIs).
    static func noisyWhy(_ rs: [Record]) -> String? {
        let bad = rs.filter { $0.stats?.isNoisy ?? false }
        guard !bad.isEmpty else { return nil }
        return "noisy row(s), CV > 10 %: " + bad.map { "\(name($0)) (CV \(String(format: "%.0f", $0.stats!.cv * 100)) %)" }.joined(separator: ", ") + " — rerun on a quieter machine"
    }

    static func pcidFact(_ e: Environment) -> String {
        e.pcid
            ? "PCID is on: Linux tags TLB entries with an address-space id and does not flush the TLB on every process switch (the note's premise is the pre-PCID picture)."
            : "PCID is off: every CR3 write flushes the non-global TLB entries, as the note describes."
    }

    static func virtFact(_ e: Environment) -> String {
        e.virtualization == "none" || e.virtualization.isEmpty
            ? "Bare metal (no hypervisor flag)."
            : "Virtualized (\(e.virtualization)): address translation is two-level (guest and host page tables), a TLB miss walks both, and waking an idle vCPU goes through the hypervisor."
    }

    static func mitigationFact(_ e: Environment) -> String {
        let m = e.mitigationSummary
        return m.isEmpty ? "No active CPU vulnerability mitigations reported." : "Mitigations in force (each kernel entry/exit pays for them): \(m)."
    }

    static func verdictFromDisjoint(holdsIf a: Record, above b: Record) -> Verdict {
        if lo(a) > hi(b) { return .holds }
        if lo(b) > hi(a) { return .doesNotHold }
        return .inconclusive
    }

    // MARK: C1

    static func c1(_ run: RunResult) -> Claim {
        var c = Claim(id: "C1", english: "A thread switch is cheaper than a process switch.",
                      chinese: "线程切换只需要第二步",
                      rule: "Per mechanism (futex, pipe), same-cpu, 2 tasks: holds when process per_switch is above thread per_switch with disjoint 95 % CIs (process CI low > thread CI high); does not hold when thread is above process with disjoint CIs; inconclusive when the CIs overlap, rows are invalid, noisy (CV > 10 %) or missing, or mechanisms disagree.",
                      evidence: [], measured: [], verdict: .inconclusive, why: notMeasured,
                      facts: [pcidFact(run.environment), virtFact(run.environment)])
        var outcomes: [(String, Verdict)] = []
        var invalid: [String] = []
        for m in ["futex", "pipe"] {
            guard let p = row(run, "process", m, "per_switch"), let t = row(run, "thread", m, "per_switch") else { continue }
            c.evidence += [p, t]
            if let w = invalidWhy([p, t]) { invalid.append(w); continue }
            c.measured.append("\(m): process ÷ thread per switch = \(x(med(p) / med(t))); the address-space change adds \(humanTime(med(p) - med(t))) per switch")
            if let n = noisyWhy([p, t]) { invalid.append("\(m): \(n)"); continue }
            outcomes.append((m, verdictFromDisjoint(holdsIf: p, above: t)))
        }
        if outcomes.isEmpty {
            c.why = invalid.isEmpty ? notMeasured : invalid.joined(separator: "; ")
            return c
        }
        let kinds = Set(outcomes.map(\.1))
        let list = outcomes.map { "\($0.0): \($0.1.rawValue)" }.joined(separator: ", ")
        if kinds == [.holds] {
            c.verdict = .holds
            c.why = "process per switch is above thread per switch beyond both CIs for every mechanism measured (\(list))."
        } else if kinds == [.doesNotHold] {
            c.verdict = .doesNotHold
            c.why = "the thread switch is not cheaper: thread per switch is above process per switch beyond the CIs (\(list))."
        } else if kinds.contains(.holds) && kinds.contains(.doesNotHold) {
            c.why = "the mechanisms disagree (\(list))."
        } else {
            c.why = "the difference is within the CIs for at least one mechanism (\(list))."
            if !kinds.contains(.holds) { c.why += " No measurable premium for the process switch here." }
        }
        if !invalid.isEmpty { c.why += " Skipped: " + invalid.joined(separator: "; ") }
        return c
    }

    // MARK: C2

    static func c2(_ run: RunResult) -> Claim {
        var c = Claim(id: "C2", english: "A process switch must flush the TLB.",
                      chinese: "进程切换需要清空快表",
                      rule: "pollution harness, idle B (footprint 0): the re-walk penalty per page of task A after a switch to another process, to a thread, no switch (none) and an mprotect() flush reference. When the harness's verdict row is present it decides (its rule: over the working sets where the flush reference is visible, a majority must show process above thread beyond the 95 % CIs by ≥ 25 % of a flush; then yes if the median share of a full flush is ≥ 60 %, else partly; otherwise no): yes → holds, no → does not hold here, partly or inconclusive → inconclusive. Without a verdict row, at the smallest working set with both (inside the L1 dTLB): holds when process is above thread with disjoint CIs; does not hold when the CIs overlap and the ratio is below 1.10 or thread is above process beyond the CIs; otherwise inconclusive.",
                      evidence: [], measured: [], verdict: .inconclusive, why: notMeasured,
                      facts: [pcidFact(run.environment), virtFact(run.environment)])
        let all = run.records(harness: "pollution")
        guard !all.isEmpty else { return c }
        let verdictRow = all.first { $0.mechanism == "verdict" }
        let rows = all.filter { $0.stats != nil && $0.footprintBytes == 0 && $0.mechanism != "verdict" }
        let metrics = Array(Set(rows.map(\.metric))).sorted()
        let metric = metrics.first { $0.contains("penalty") } ?? metrics.first ?? ""
        let order = ["process", "thread", "none", "flush"]
        c.evidence = rows.filter { $0.metric == metric }.sorted {
            (($0.workingSetPages ?? 0), order.firstIndex(of: $0.mechanism) ?? 9) < (($1.workingSetPages ?? 0), order.firstIndex(of: $1.mechanism) ?? 9)
        }
        let procs = rows.filter { $0.metric == metric && $0.mechanism == "process" }
        let threads = rows.filter { $0.metric == metric && $0.mechanism == "thread" }
        let pair = procs.compactMap { p in threads.first { $0.workingSetPages == p.workingSetPages }.map { (p, $0) } }
            .min { ($0.0.workingSetPages ?? 0) < ($1.0.workingSetPages ?? 0) }   // the smallest W: L1 dTLB
        var ratio: Double?
        var flushShare = ""
        if let (p, t) = pair, med(t) > 0 {
            ratio = med(p) / med(t)
            c.measured.append("\(metric) at \(p.workingSetPages.map(String.init) ?? "?") pages: process \(fmt(p)) vs thread \(fmt(t)), ratio \(x(ratio!))")
            if let f = rows.first(where: { $0.metric == metric && $0.mechanism == "flush" && $0.workingSetPages == p.workingSetPages }),
               med(f) > 0 {
                let share = (med(p) - med(t)) / med(f) * 100
                flushShare = String(format: "at %d pages the process switch adds %@ per page over the thread switch, %.0f %% of what a real flush of those pages costs (%@)",
                                    p.workingSetPages ?? 0, humanTime(med(p) - med(t)), share, fmt(f))
                c.measured.append(flushShare)
            }
        }
        if let v = verdictRow {
            c.evidence.append(v)
            c.measured.append("harness verdict: \(v.note)")
            let answer = v.note.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            switch answer {
            case "yes":
                c.verdict = .holds
                c.why = "the pollution harness's verdict is yes: after a process switch A's re-walk costs about as much as after a full flush, beyond the thread switch's CIs."
            case "no":
                c.verdict = .doesNotHold
                c.why = "the pollution harness's verdict is no: " + (flushShare.isEmpty ? "A's re-walk after a process switch is not above the thread switch's by a quarter of a real flush" : flushShare) + ", so most of A's translations survived the switch: a few entries were evicted, the TLB was not flushed."
            default:
                c.why = "the pollution harness's verdict is '\(answer)'" + (answer == "partly" ? ": a process switch cost part of a flush, not a full one" + (flushShare.isEmpty ? "." : " (" + flushShare + ").") : ".")
            }
            return c
        }
        guard let (p, t) = pair, let ratio else {
            c.why = "pollution rows present but no process/thread pair with the same working set"
            return c
        }
        if let w = invalidWhy([p, t]) { c.why = w; return c }
        switch verdictFromDisjoint(holdsIf: p, above: t) {
        case .holds:
            c.verdict = .holds
            c.why = "the re-walk after a process switch costs more than after a thread switch beyond both CIs: translations were lost."
        case .doesNotHold:
            c.verdict = .doesNotHold
            c.why = "the re-walk after a thread switch costs more than after a process switch: no sign of a flush."
        case .inconclusive:
            if ratio < 1.10 {
                c.verdict = .doesNotHold
                c.why = "the re-walk after a process switch costs the same as after a thread switch (CIs overlap, ratio \(x(ratio))): the TLB was not flushed."
            } else {
                c.why = "process penalty is \(x(ratio)) the thread one but the CIs overlap."
            }
        }
        return c
    }

    static func fmt(_ r: Record) -> String {
        r.unit == "ns" ? humanTime(med(r)) : String(format: "%.3g %@", med(r), r.unit)
    }

    // MARK: C3

    static func c3(_ run: RunResult) -> Claim {
        var c = Claim(id: "C3", english: "A coroutine switch happens in user mode and costs far less than a thread switch.",
                      chinese: "切换在用户态完成，切换的代价比线程从用户态到内核态的代价小很多",
                      rule: "same-cpu per_switch: holds when the asm coroutine's CI high × 10 is below the cheapest valid thread row's CI low (at least 10× cheaper beyond noise); does not hold when the coroutine's CI low × 10 is above that thread row's CI high; otherwise inconclusive. ucontext and Swift-task rows are shown for contrast, not judged.",
                      evidence: [], measured: [], verdict: .inconclusive, why: notMeasured,
                      facts: [mitigationFact(run.environment)])
        let allThreads = ["futex", "pipe"].compactMap { row(run, "thread", $0, "per_switch") }
        let threads = allThreads.filter(\.valid)
        let asm = row(run, "coroutine", "asm", "per_switch")
        let others = ["ucontext", "swift-task"].compactMap { row(run, "coroutine", $0, "per_switch") }
        c.evidence = (asm.map { [$0] } ?? []) + others + allThreads
        guard let asm else {
            if !threads.isEmpty { c.why = "coroutine rows " + notMeasured + " (only thread rows present)" }
            return c
        }
        guard let t = threads.min(by: { med($0) < med($1) }) else {
            c.why = allThreads.isEmpty ? "no same-cpu thread per_switch row to compare with"
                : (invalidWhy(allThreads) ?? "no usable thread row")
            return c
        }
        if let w = invalidWhy([asm]) { c.why = w; return c }
        c.measured.append("thread (\(t.mechanism)) ÷ asm coroutine per switch = \(x(med(t) / med(asm)))")
        for o in others { c.measured.append("thread (\(t.mechanism)) ÷ \(o.mechanism) per switch = \(x(med(t) / med(o)))") }
        if hi(asm) * 10 < lo(t) {
            c.verdict = .holds
            c.why = "the asm coroutine switch (\(humanTime(med(asm)))) is \(x(med(t) / med(asm))) cheaper than the thread switch (\(humanTime(med(t)))), beyond 10× even at the CI edges: no kernel entry, no scheduler."
        } else if lo(asm) * 10 > hi(t) {
            c.verdict = .doesNotHold
            c.why = "the asm coroutine switch is less than 10× cheaper than the thread switch, beyond the CIs."
        } else {
            c.why = "the 10× margin is within the CIs."
        }
        return c
    }

    // MARK: C4

    static func c4(_ run: RunResult) -> Claim {
        var c = Claim(id: "C4", english: "A blocking call in one coroutine blocks every coroutine on that thread.",
                      chinese: "在协程调用阻塞IO操作的时候，当前的协程和其它绑定在该线程之上的协程都会陷入阻塞而得不到调度",
                      rule: "blocking harness, time rows: holds when the smallest stall the other coroutines see with a blocking read is ≥ 10× the largest stall with the non-blocking read and its CI low is above that row's CI high; does not hold when it is under 2×; otherwise inconclusive.",
                      evidence: [], measured: [], verdict: .inconclusive, why: notMeasured, facts: [])
        let rows = run.records(harness: "blocking").filter { $0.stats != nil && $0.unit == "ns" }
        guard !rows.isEmpty else { return c }
        func text(_ r: Record) -> String { (r.mechanism + " " + r.metric).lowercased() }
        func isNonBlocking(_ r: Record) -> Bool {
            let t = text(r)
            return t.contains("nonblock") || t.contains("non-block") || t.contains("non_block") || t.contains("poll") || t.contains("yield")
        }
        let nonb = rows.filter(isNonBlocking)
        let block = rows.filter { !isNonBlocking($0) && text($0).contains("block") }
        c.evidence = block + nonb
        guard let b = block.min(by: { med($0) < med($1) }), let n = nonb.max(by: { med($0) < med($1) }) else {
            c.evidence = rows
            c.why = "blocking rows present but not both a blocking and a non-blocking case (by mechanism/metric name)"
            return c
        }
        if let w = invalidWhy([b, n]) { c.why = w; return c }
        let ratio = med(b) / max(med(n), 1e-9)
        c.measured.append("stall with blocking read ÷ with non-blocking read = \(x(ratio)) (\(humanTime(med(b))) vs \(humanTime(med(n))))")
        if ratio >= 10 && lo(b) > hi(n) {
            c.verdict = .holds
            c.why = "while one coroutine sat in a blocking read, the others got no turn for \(humanTime(med(b))); with the read made non-blocking their longest wait was \(humanTime(med(n)))."
        } else if ratio < 2 {
            c.verdict = .doesNotHold
            c.why = "the other coroutines' stall is about the same with a blocking read."
        } else {
            c.why = "the stall ratio \(x(ratio)) is between 2× and 10× or the CIs overlap."
        }
        return c
    }

    // MARK: C5

    static func c5(_ run: RunResult) -> Claim {
        var c = Claim(id: "C5", english: "Address-translation (TLB) misses make memory access slow.",
                      chinese: "把虚拟地址转换为物理地址需要查找页表，页表查找是一个很慢的过程",
                      rule: "tlb harness, ns_per_access: at the largest working set measured with both, holds when the 4 KiB row is above the cache-only control row with disjoint CIs and by ≥ 1.2× (the extra is translation); does not hold when 4 KiB is within 1.2× of the control or below it; otherwise inconclusive. 2 MiB pages are reported beside it.",
                      evidence: [], measured: [], verdict: .inconclusive, why: notMeasured,
                      facts: ["THP mode: \(run.environment.thp).", virtFact(run.environment)])
        let rows = run.records(harness: "tlb").filter { $0.metric == "ns_per_access" && $0.stats != nil }
        guard !rows.isEmpty else { return c }
        func line(_ m: String) -> [Int: Record] {
            var d: [Int: Record] = [:]
            for r in rows where r.mechanism == m { if let w = r.workingSetPages { d[w] = r } }
            return d
        }
        let four = line("4k"), control = line("control"), huge = line("2m")
        // The tlb harness's fact rows: each level's reach in pages, the extra cost past it, the 2 MiB outcome.
        let reach = run.records(harness: "tlb").filter {
            ($0.metric.hasPrefix("reach_") && $0.metric.hasSuffix("_pages")) || $0.metric.hasPrefix("miss_") ||
                $0.metric == "huge_page_reach_ratio"
        }
        guard let w = Set(four.keys).intersection(control.keys).max(), let f = four[w], let k = control[w] else {
            c.evidence = rows.sorted { ($0.workingSetPages ?? 0) < ($1.workingSetPages ?? 0) }.suffix(3).map { $0 }
            c.why = "no working set measured with both 4k and control rows"
            return c
        }
        let smallest = four.keys.min().flatMap { four[$0] }
        c.evidence = [f, k] + (huge[w].map { [$0] } ?? []) + (smallest.map { $0.workingSetPages != w ? [$0] : [] } ?? []) + reach
        if let bad = invalidWhy([f, k]) { c.why = bad; return c }
        let ratio = med(f) / med(k)
        c.measured.append("at \(w) pages: 4 KiB \(String(format: "%.2f", med(f))) ns vs control \(String(format: "%.2f", med(k))) ns per access, ratio \(x(ratio)); translation adds \(String(format: "%.2f", med(f) - med(k))) ns per access")
        if let h = huge[w] { c.measured.append("2 MiB pages at \(w) pages: \(String(format: "%.2f", med(h))) ns per access (\(x(med(f) / med(h))) faster than 4 KiB)") }
        if let s = smallest, s.workingSetPages != w {
            c.measured.append("4 KiB at \(s.workingSetPages ?? 0) pages (inside the TLB): \(String(format: "%.2f", med(s))) ns per access")
        }
        for r in reach {
            let value = r.stats.map { r.unit == "ns" ? humanTime($0.median) : String(format: r.unit == "pages" ? "%.0f %@" : "%.2f %@", $0.median, r.unit) } ?? "n/a"
            c.measured.append("\(r.mechanism) \(r.metric): \(value)" + (r.note.isEmpty ? "" : " (\(r.note))"))
        }
        if ratio >= 1.2 && lo(f) > hi(k) {
            c.verdict = .holds
            c.why = "beyond the TLB's reach each access costs \(x(ratio)) the cache-only control: the page walk is the difference."
        } else if ratio < 1.2 {
            c.verdict = .doesNotHold
            c.why = "4 KiB pages cost within 1.2× of the cache-only control at the largest working set."
        } else {
            c.why = "ratio \(x(ratio)) but the CIs overlap."
        }
        return c
    }

    // MARK: C6

    static func c6(_ run: RunResult) -> Claim {
        var c = Claim(id: "C6", english: "A process lives from fork to exit and stays a zombie until its parent waits for it.",
                      chinese: "僵尸进程：进程通过 exit 系统调用退出之后……内核立即回收一部分资源并将该进程标记为僵尸进程",
                      rule: "create harness: holds when a valid fork+exit+wait row is present (each op created, ended and reaped a process) and the zombie check row (mechanism or metric naming 'zombie') is valid and reports state Z in /proc before waitpid; does not hold when the check saw no Z; otherwise inconclusive. Creation costs are shown for scale.",
                      evidence: [], measured: [], verdict: .inconclusive, why: notMeasured, facts: [])
        let rows = run.records(harness: "create")
        guard !rows.isEmpty else { return c }
        c.evidence = rows.filter { $0.stats != nil && $0.unit == "ns" }
        let fork = rows.first { $0.mechanism.contains("fork") && ($0.mechanism.contains("wait") || $0.mechanism.contains("exit")) && $0.stats != nil }
        if let f = fork {
            for r in c.evidence where r.mechanism != f.mechanism {
                c.measured.append(med(r) >= med(f)
                    ? "\(r.mechanism): \(humanTime(med(r))), \(x(med(r) / med(f))) a fork+exit+waitpid (\(humanTime(med(f))))"
                    : "\(r.mechanism): \(humanTime(med(r))); a fork+exit+waitpid (\(humanTime(med(f)))) costs \(x(med(f) / med(r))) as much")
            }
        }
        // The zombie check is its own row (mechanism or metric naming it), not a timing whose note mentions zombies.
        let zombie = rows.first { ($0.mechanism + " " + $0.metric).lowercased().contains("zombie") }
        if let z = zombie, !c.evidence.contains(where: { $0.key == z.key }) { c.evidence.append(z) }
        guard let f = fork else { c.why = "no fork+exit+wait row in the create rows"; return c }
        if let w = invalidWhy([f]) { c.why = w; return c }
        guard let z = zombie else {
            c.why = "fork+exit+wait measured (\(humanTime(med(f))) per process) but no zombie check row or note in the CSV"
            return c
        }
        let t = (z.metric + " " + z.note).lowercased()
        let negative = t.contains("not seen") || t.contains("no zombie") || t.contains("zombie: no")
        let sawZ = !negative && (t.contains("state z") || t.contains("zombie: yes"))
        c.measured.append("zombie check: \(z.metric) \(z.stats.map { String(format: "%g", $0.median) } ?? "") \(z.note)")
        if sawZ && z.valid {
            c.verdict = .holds
            c.why = "each fork+exit+waitpid op (\(humanTime(med(f)))) ran the full life cycle, and the exited, unwaited child was seen in state Z until waitpid."
        } else if negative {
            c.verdict = .doesNotHold
            c.why = "the zombie check did not see state Z."
        } else {
            c.why = invalidWhy([z]) ?? "the zombie check row does not say whether state Z was seen."
        }
        return c
    }

    // MARK: C7

    static func c7(_ run: RunResult) -> Claim {
        var c = Claim(id: "C7", english: "A privilege switch (user ↔ kernel) has a cost of its own.",
                      chinese: "特权级切换",
                      rule: "syscall harness, same CPU: holds when getppid through syscall(2) (one kernel entry and exit per call) is above the vDSO clock_gettime (no kernel entry) with disjoint 95 % CIs; does not hold when it is not above; inconclusive when rows are missing or invalid.",
                      evidence: [], measured: [], verdict: .inconclusive, why: notMeasured,
                      facts: [mitigationFact(run.environment), virtFact(run.environment)])
        let s = row(run, "syscall", "getppid", "per_call", placement: .sameCPU)
            ?? run.records.first { $0.harness == "syscall" && $0.mechanism == "getppid" && $0.stats != nil }
        let v = row(run, "syscall", "clock_gettime", "per_call", placement: .sameCPU)
            ?? run.records.first { $0.harness == "syscall" && $0.mechanism == "clock_gettime" && $0.stats != nil }
        c.evidence = [s, v].compactMap { $0 }
        guard let s, let v else { return c }
        if let w = invalidWhy([s, v]) { c.why = w; return c }
        c.measured.append("getppid ÷ clock_gettime (vDSO) = \(x(med(s) / med(v))); the kernel round trip adds \(humanTime(med(s) - med(v))) per call")
        if lo(s) > hi(v) {
            c.verdict = .holds
            c.why = "a system call that does almost nothing costs \(humanTime(med(s))), \(x(med(s) / med(v))) a call that stays in user mode."
        } else {
            c.verdict = .doesNotHold
            c.why = "the system call is not above the user-mode call beyond the CIs."
        }
        return c
    }

    // MARK: Rendering

    /// report.md: the claims, each with rule, evidence rows, measured ratios, verdict and the facts that explain it.
    public static func render(_ run: RunResult, plots: [(name: String, title: String)] = []) -> String {
        let e = run.environment
        var out = "# switchbench claims report\n\n"
        out += "Run `\(run.runID)` at \(run.timestampUTC). The course note's claims (DESIGN.md), each judged from this run's rows by the rule stated with it; the numbers the rule uses are beside the verdict.\n\n"
        out += "**Machine:** \(e.cpuModel); virtualization \(e.virtualization.isEmpty ? "unknown" : e.virtualization); Linux \(e.kernel); PCID \(e.pcid ? "on" : "off"); THP \(e.thp); \(e.build) build; switchbench \(e.suiteVersion) (\(e.gitCommit)).\n"
        out += "**Mitigations:** \(e.mitigationSummary.isEmpty ? "none reported" : e.mitigationSummary).\n\n"
        let claims = evaluate(run)
        var summary = MarkdownTable(["claim", "the note says", "verdict", "why"])
        for c in claims {
            summary.add([c.id, "\(c.english) (\(c.chinese))", "**\(c.verdict.rawValue)**", c.why])
        }
        out += "## Summary\n\n" + summary.text + "\n\n"
        for c in claims {
            out += "## \(c.id): \(c.english)\n\n"
            out += "> \(c.chinese)\n\n"
            out += "**Verdict: \(c.verdict.rawValue)** — \(c.why)\n\n"
            out += "_Rule:_ \(c.rule)\n\n"
            if !c.measured.isEmpty {
                out += "**Measured:**\n\n" + c.measured.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
            }
            if !c.evidence.isEmpty {
                var t = MarkdownTable(["harness", "mechanism", "placement", "pages", "metric", "median", "95 % CI", "switches/op", "valid", "note"])
                for r in c.evidence {
                    let value = r.stats.map { r.unit == "ns" ? humanTime($0.median) : String(format: "%.4g %@", $0.median, r.unit) } ?? "–"
                    let ci = r.stats.map { r.unit == "ns" ? "\(humanTime($0.ci95Low)) – \(humanTime($0.ci95High))" : String(format: "%.4g – %.4g", $0.ci95Low, $0.ci95High) } ?? "–"
                    t.add([r.harness, r.mechanism, r.placement, r.workingSetPages.map(String.init) ?? "", r.metric, value, ci,
                           r.switchesPerOp.map { String(format: "%.2f", $0) } ?? "", r.valid ? "yes" : "**no**", r.note])
                }
                out += "**Evidence rows:**\n\n" + t.text + "\n\n"
            }
            if !c.facts.isEmpty {
                out += "**Machine facts that bear on it:** " + c.facts.joined(separator: " ") + "\n\n"
            }
        }
        if !plots.isEmpty {
            out += "## Plots\n\n" + plots.map { "![\($0.title)](\($0.name))" }.joined(separator: "\n\n") + "\n\n"
        }
        out += "_Environment: \(e.oneLine)._\n"
        return out
    }
}
