import Foundation

/// Markdown sections of the tlb sweep (claim C5) and the pollution verdict (claim C2).
extension MarkdownExporter {
    static func bytesText(_ b: Double) -> String {
        switch b {
        case ..<1_048_576.0: return String(format: "%.0f KiB", b / 1024)
        case ..<1_073_741_824.0: return String(format: "%.1f MiB", b / 1048576)
        default: return String(format: "%.1f GiB", b / 1073741824)
        }
    }

    /// Claim C5: reach of each TLB level, extra cost per access, 4 KiB vs 2 MiB, and the sweep.
    static let tlbSweep: Section = { run in
        let rows = run.records(harness: "tlb")
        guard !rows.isEmpty else { return nil }
        func fact(_ variant: String, _ metric: String) -> Double? {
            rows.first { $0.mechanism == variant && $0.metric == metric }?.stats?.median
        }
        func factNote(_ variant: String, _ metric: String) -> String {
            rows.first { $0.mechanism == variant && $0.metric == metric }?.note ?? ""
        }
        var parts: [String] = ["## TLB reach and miss cost (claim C5)", """
        A dependent pointer chase touches one cache line in each of N pages (a random line in each page,
        pages in a random order, so no prefetcher helps). The control chain touches the same number of
        cache lines packed 64 to a page, so `4k − control` is the translation cost without the cache-miss
        cost. A knee in that difference is where a TLB level runs out: the *reach* is the largest working
        set still under a quarter of the step, and the *extra* is the step itself (ns per access).
        """]

        var reach = MarkdownTable(["TLB level", "4 KiB pages: reach", "extra per access beyond", "2 MiB pages: reach", "extra per access beyond"])
        var level = 1
        while fact("4k", "reach_l\(level)_pages") != nil || fact("2m", "reach_l\(level)_pages") != nil {
            func cell(_ v: String) -> (String, String) {
                guard let p = fact(v, "reach_l\(level)_pages") else { return ("–", "–") }
                return ("\(Int(p)) pages (\(bytesText(p * 4096)))", humanTime(fact(v, "miss_l\(level)_extra_ns")))
            }
            let a = cell("4k"), b = cell("2m")
            reach.add([TLBAnalysis.levelName(level - 1), a.0, a.1, b.0, b.1])
            level += 1
        }
        if !reach.rows.isEmpty {
            parts.append(reach.text)
        } else if rows.contains(where: { $0.metric == "reach_l1_pages" }) {
            parts.append("No knee found: " + factNote("4k", "reach_l1_pages") + ".")
        } else if !rows.contains(where: { $0.mechanism == "control" }) {
            parts.append("No reach: the knees are found on the difference to the `control` chain, which did not run (add it to --mechanism).")
        }
        if let verdict = rows.first(where: { $0.metric == "huge_page_reach_ratio" }) {
            let granted = rows.first { $0.mechanism == "2m" && $0.metric == "ns_per_access" }?.note
                .split(separator: ";").first { $0.contains("huge pages") }?.trimmingCharacters(in: .whitespaces) ?? ""
            parts.append("**4 KiB vs 2 MiB:** \(verdict.note)." + (granted.isEmpty ? "" : " (\(granted).)"))
        }

        // The sweep at powers of two (every point is in the CSV).
        func ns(_ v: String, _ n: Int) -> Double? {
            rows.first { $0.mechanism == v && $0.workingSetPages == n && $0.metric == "ns_per_access" }?.stats?.median
        }
        var sweep = MarkdownTable(["pages", "4 KiB span", "4k", "control", "4k − control", "2m", "2m − control"])
        var n = TLBHarness.minPages
        while n <= TLBHarness.maxPages {
            let a = ns("4k", n), c = ns("control", n), h = ns("2m", n)
            if a != nil || c != nil || h != nil {
                sweep.add([String(n), bytesText(Double(n * 4096)), humanTime(a), humanTime(c),
                           humanTime(a.flatMap { x in c.map { x - $0 } }), humanTime(h), humanTime(h.flatMap { x in c.map { x - $0 } })])
            }
            n *= 2
        }
        parts.append("ns per access (median), at powers of two:\n\n" + sweep.text)

        // Counters: filled ones, and why the others are empty.
        let unavailable = rows.filter { $0.stats == nil && $0.unit == "per access" && $0.mechanism == "4k" }
        let filled = Set(rows.filter { $0.unit == "per access" && $0.stats != nil }.map(\.metric)).sorted()
        var counterLine = "Counters per access: " + (filled.isEmpty ? "none filled" : filled.joined(separator: ", ") + " filled (CSV)")
        if !unavailable.isEmpty {
            counterLine += "; empty: " + unavailable.map { "`\($0.metric)` (\($0.note.replacingOccurrences(of: "n/a: ", with: "")))" }.joined(separator: "; ")
        }
        if let pf = rows.filter({ $0.metric == "page-faults" }).compactMap({ $0.stats?.median }).max() {
            counterLine += String(format: ". Page faults per access, worst point: %.2g (the walks never fault)", pf)
        }
        parts.append(counterLine + ".")
        if let node = rows.first(where: { $0.note.contains("--node") || $0.note.contains("NUMA node") })?.note
            .split(separator: ";").first(where: { $0.contains("node") }) {
            parts.append("NUMA: \(node.trimmingCharacters(in: .whitespaces)).")
        }
        parts.append(environmentLine(run))
        return parts.joined(separator: "\n\n")
    }

    /// Claim C2: the re-walk penalty after a process switch, a thread switch, none, and a real flush.
    static let pollution: Section = { run in
        let rows = run.records(harness: "pollution").filter { $0.metric == "rewalk_penalty_per_page" }
        guard !rows.isEmpty else { return nil }
        let verdictRow = run.records(harness: "pollution").first { $0.mechanism == "verdict" }
        let pcid = run.environment.pcid ? "on" : "off"
        func get(_ m: String, _ w: Int, busy: Bool) -> Record? {
            rows.first { $0.mechanism == m && $0.workingSetPages == w && ($0.footprintBytes > 0) == busy }
        }
        func cell(_ r: Record?) -> String {
            guard let s = r?.stats else { return "–" }
            return String(format: "%.2f [%.2f, %.2f]", s.median, s.ci95Low, s.ci95High)
        }
        // Where each W sits against the reach the tlb sweep found in this run, when it ran.
        let tlb = run.records(harness: "tlb")
        let reach1 = tlb.first { $0.mechanism == "4k" && $0.metric == "reach_l1_pages" }?.stats?.median
        let reach2 = tlb.first { $0.mechanism == "4k" && $0.metric == "reach_l2_pages" }?.stats?.median
        func holder(_ w: Int) -> String {
            guard let r1 = reach1 else { return "" }
            if Double(w) <= r1 { return " (L1 dTLB)" }
            guard let r2 = reach2 else { return "" }
            return Double(w) <= r2 ? " (STLB)" : " (beyond)"
        }
        var t = MarkdownTable(["W pages", "no switch", "thread, B idle", "process, B idle", "process − thread",
                               "real flush (mprotect)", "thread, B busy", "process, B busy", "warm walk"])
        let ws = Set(rows.compactMap(\.workingSetPages)).sorted()
        for w in ws {
            let p = get("process", w, busy: false), th = get("thread", w, busy: false)
            let diff = p?.stats.flatMap { a in th?.stats.map { String(format: "%+.2f", a.median - $0.median) } } ?? "–"
            let warm = get("none", w, busy: false)?.note.split(separator: ";").first { $0.contains("warm walk") }?
                .replacingOccurrences(of: "warm walk", with: "").trimmingCharacters(in: .whitespaces) ?? "–"
            t.add([String(w) + holder(w), cell(get("none", w, busy: false)), cell(th), cell(p), diff, cell(get("flush", w, busy: false)),
                   cell(get("thread", w, busy: true)), cell(get("process", w, busy: true)), warm])
        }
        let note = verdictRow?.note ?? ""
        let answer = note.split(separator: ":").first.map(String.init) ?? "inconclusive"
        let points = PollutionVerdict.points(run.records)
        let best = points.filter(\.flushVisible).max { $0.reference < $1.reference }
        let machine = "\(run.environment.cpuModel), \(run.environment.virtualization == "none" ? "bare metal" : run.environment.virtualization + " guest"), Linux \(run.environment.kernel), PCID \(pcid)"
        var student: String
        if let b = best {
            let share = b.reference > 0 ? b.excess / b.reference * 100 : 0
            let numbers = String(format: "re-walking %d pages after a switch to another process and back cost %.1f ns per page more than a warm walk, against %.1f ns after a thread switch and %.1f ns after a real flush of those pages (%.0f %% of a flush)",
                                 b.w, b.process.median, b.thread.median, b.flush.median, share)
            switch answer {
            case "yes":
                student = "On this machine (\(machine)) a process switch flushed the TLB: \(numbers). Without PCID/ASID tags the kernel must drop the old address space's translations at every CR3 change, as the note says (进程切换需要清空快表)."
            case "partly":
                student = "On this machine (\(machine)) a process switch cost part of a TLB flush: \(numbers). Some of the old translations were lost on the way through the other address space, but not all."
            case "no":
                student = "On this machine (\(machine)) a process switch did not flush the TLB: \(numbers). Linux tags TLB entries with a PCID per address space, so switching CR3 to another process keeps the old translations, and the note's 进程切换需要清空快表 holds only without PCID (x86) or ASID (arm64)."
            default:
                student = "On this machine (\(machine)) the measurement could not decide whether a process switch flushes the TLB: \(numbers)."
            }
        } else {
            student = "On this machine (\(machine)) the measurement could not decide: even a real flush of the walked pages did not cost measurably more than no switch."
        }
        return """
        ## Does a process switch flush the TLB? (claim C2)

        Task A walks W pages (warm), hands the CPU to task B on the same CPU, B walks its own W pages (*busy*)
        or none (*idle*) and hands back; A's first re-walk is timed against its next, warm one. The table gives
        that re-walk penalty in ns per page (median [95 % CI]), all cases interleaved rep by rep in one run
        (beside W: the TLB level that holds W pages, from the tlb sweep when it ran too).
        *No switch* is the same kernel entry with nothing else to run; *real flush* is mprotect() of A's
        pages, which must drop their translations. Reps whose kernel switch count was off were retaken.

        \(t.text)

        **A process switch flushed the TLB: \(answer)** (PCID \(pcid)). \(note.dropFirst(answer.count + 1).trimmingCharacters(in: .whitespaces)).

        > \(student)

        \(environmentLine(run))
        """
    }
}
