import CSwitchBench
import Glibc

/// The indirect cost of a switch (claim C2, Li–Ding–Shen style, measured inside one program):
/// task A walks its W pages (a page chain, warm), hands the CPU to task B, B walks its own W′ pages
/// (or none) and hands back, and A's first re-walk is timed against its next, warm one. The
/// difference per page is the re-walk penalty: the translations (and lines) A lost while away.
///
///   process: B is a forked child (another address space: the kernel switches CR3; with PCID it
///            need not flush A's translations).
///   thread:  B is a thread of A's process (same address space: nothing to flush).
///   none:    no switch: A calls sched_yield() with nothing else runnable (the same kernel entry).
///   flush:   reference: mprotect() on A's pages, which must flush their translations.
///
/// All cases run interleaved, rep by rep, in one program; a rep whose kernel switch count is not
/// what the case expects (A preempted, B not run) is retaken. The verdict compares process and
/// thread with an idle B (W′ = 0), at the W where the flush reference is visible at all.
public struct PollutionHarness: Harness {
    public init() {}
    public let info = HarnessInfo("pollution", claims: ["C2"],
                                  summary: "re-walk penalty after a process switch vs a thread switch vs none: does a process switch flush the TLB?",
                                  mechanisms: [
        ("process", "B is a forked child on the same CPU (other address space), idle or walking W pages of its own"),
        ("thread", "B is a thread on the same CPU (same address space), idle or walking W pages of its own"),
        ("none", "no switch: sched_yield() with nothing else runnable"),
        ("flush", "reference: mprotect() of A's pages flushes their translations")],
        op: "one re-walk after a switch", section: "pollution")
    /// Page walks and re-walks miss to shared caches and memory: a busy neighbour moves them (docs/busy-machines.md).
    public var neighbourSensitive: Bool { true }

    public static let standardW = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    public static let quickW = [32, 256, 2048]

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        let m = selectedMechanisms(options)
        guard !m.isEmpty else { return [] }
        return [CaseSpec(harness: id, mechanisms: m, placement: .sameCPU, tasks: 2)]
    }

    /// One case of a rep: who B is and how many pages B walks.
    enum Kind: String { case process, thread, none, flush }
    struct Case: Hashable {
        var kind: Kind
        var busy: Bool
        var label: String { kind == .process || kind == .thread ? "\(kind.rawValue) (B \(busy ? "busy" : "idle"))" : kind.rawValue }
        var expectedSwitches: UInt64 { kind == .process || kind == .thread ? 2 : 0 }
    }

    /// The control block in MAP_SHARED memory: futex words on their own lines, the command, B's tids.
    struct Control {
        /// A's word (B sets it when done), each B's word (A sets it to wake that B), and stop.
        var wordA, wordProcess, wordThread, stop: UnsafeMutablePointer<UInt32>
        /// B's chain start and how many steps to walk (0: idle).
        var chainStart: UnsafeMutablePointer<UInt>
        var chainSteps: UnsafeMutablePointer<Int>
        /// tid of the thread B, pid of the process B, written by each at start.
        var tids: UnsafeMutablePointer<Int32>
    }

    /// B's loop: wait for its word, walk, tell A, wait again. System calls and loads only: it runs
    /// in a forked child too.
    static func serveB(_ c: Control, word: UnsafeMutablePointer<UInt32>, cpu: Int32, slot: Int) {
        var cpuVar = cpu
        _ = sb_set_affinity(&cpuVar, 1)
        c.tids[slot] = sb_gettid()
        while true {
            while sb_load_acquire(word) == 0 { _ = sb_futex_wait(word, 0, 0, 1) }
            sb_store_release(word, 0)
            if sb_load_acquire(c.stop) != 0 { break }
            let steps = c.chainSteps.pointee
            if steps > 0, let p = UnsafeRawPointer(bitPattern: c.chainStart.pointee) {
                _ = PageChain.chase(p, steps)
            }
            sb_store_release(c.wordA, 1)
            // Back to the futex: B blocks, and A (spinning in sched_yield) gets the CPU.
        }
    }

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let kinds = spec.mechanisms.compactMap(Kind.init(rawValue:))
        let cpu = context.allowedCPUs[0]
        let ws = context.options.quick ? Self.quickW : Self.standardW
        let reps = context.options.quick ? 41 : max(41, context.options.sampler.samples * 10)
        signal(SIGPIPE, SIG_IGN)
        var cases: [Case] = []
        for k in kinds {
            cases += k == .process || k == .thread ? [Case(kind: k, busy: false), Case(kind: k, busy: true)] : [Case(kind: k, busy: false)]
        }
        let memory = try PollutionMemory(maxPages: ws.max()!)
        return try Affinity.pinned([cpu]) {
            let b = try TaskB(kinds: kinds, control: memory.control, cpu: cpu)
            defer { b.stop() }
            var reps = PollutionReps(memory: memory, b: b, reps: reps)
            defer { reps.tally.close() }
            var cells: [Case: [Int: PollutionReps.Cell]] = [:]
            for w in ws {
                for (c, cell) in try reps.measure(w, cases: cases) { cells[c, default: [:]][w] = cell }
            }
            var rows: [Record] = []
            for c in cases {
                for w in ws {
                    rows.append(record(c, w: w, cell: cells[c]![w]!, reps: reps.reps, spec: spec, cpu: cpu,
                                       counted: reps.tally.count > 0))
                }
            }
            rows.append(PollutionVerdict.record(rows, environment: context.environment, cpu: cpu))
            return rows
        }
    }

    /// The row of one case at one W, from its reps.
    func record(_ c: Case, w: Int, cell: PollutionReps.Cell, reps: Int, spec: CaseSpec, cpu: Int, counted: Bool) -> Record {
        let page = PageRegion.smallPage
        let switched = c.kind == .process || c.kind == .thread
        let st = cell.switches
        var rec = Record(harness: id, mechanism: c.kind.rawValue, placement: spec.placement.rawValue,
                         cpus: [cpu], tasks: switched ? 2 : 1,
                         footprintBytes: c.busy ? w * page : 0, pageSizeBytes: page, workingSetPages: w,
                         metric: "rewalk_penalty_per_page", samples: cell.penalties, opsPerSample: w,
                         switchesPerOp: st.reps > 0 ? Double(st.total) / Double(st.reps) : nil,
                         expectedSwitchesPerOp: Double(c.expectedSwitches),
                         counterSource: counted ? "/proc ctxt_switches of A and B, per rep" : "",
                         cpusSeen: "",
                         // The CV of a difference near zero says nothing (the mean is ~0); the CI is the spread to read.
                         flagNoisy: false)
        switch (c.kind, c.busy) {
        case (.process, false): rec.addNote("B is a process, idle: wakes and hands back")
        case (.process, true): rec.addNote("B is a process walking its own \(w) pages")
        case (.thread, false): rec.addNote("B is a thread, idle: wakes and hands back")
        case (.thread, true): rec.addNote("B is a thread walking its own \(w) pages")
        case (.none, _): rec.addNote("no switch: sched_yield() with nothing else runnable")
        case (.flush, _): rec.addNote("reference: mprotect() flushed A's \(w) translations")
        }
        let warmMedian = KneeDetector.median(cell.warm)
        rec.setFact(PollutionVerdict.warmWalkKey, warmMedian)
        rec.addNote(String(format: "warm walk %.2f ns/page", warmMedian))
        // Preemption rule here: a rep counts when A's and B's switch counts moved exactly as
        // planned (any other switch is another task taking the CPU). Stolen time is not measured.
        rec.samplesRetaken = cell.retaken
        if cell.exhausted {
            rec.invalidate("preempted reps: \(cell.retaken) retakes (\(Sampler.retakeFactor) × reps) ran out, so kept reps include switches to other tasks")
        }
        if cell.penalties.count < reps / 2 { rec.invalidate("only \(cell.penalties.count) of \(reps) reps had the expected switch count") }
        return rec
    }
}

/// Context-switch counts (voluntary + nonvoluntary) of a few tasks from their /proc status files,
/// read with pread into one buffer: cheap enough to read around every rep.
struct SwitchTally {
    private var fds: [Int32] = []
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
    var count: Int { fds.count }

    mutating func add(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fds.append(fd) }
    }

    func close() {
        for fd in fds { Glibc.close(fd) }
        buffer.deallocate()
    }

    /// The sum over every task, nil when a file could not be read.
    func read() -> UInt64? {
        guard !fds.isEmpty else { return nil }
        var total: UInt64 = 0
        for fd in fds {
            let n = pread(fd, buffer.baseAddress, buffer.count, 0)
            guard n > 0 else { return nil }
            total += Self.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return total
    }

    /// Sums the numbers on lines ending a "ctxt_switches:" key.
    static func parse(_ text: UnsafeRawBufferPointer) -> UInt64 {
        let key = Array("ctxt_switches:".utf8)
        var total: UInt64 = 0
        var i = 0
        let n = text.count
        while i + key.count <= n {
            var match = true
            for k in 0..<key.count where text[i + k] != key[k] { match = false; break }
            if match {
                var j = i + key.count
                while j < n && (text[j] == 32 || text[j] == 9) { j += 1 }
                var v: UInt64 = 0
                while j < n && text[j] >= 48 && text[j] <= 57 { v = v * 10 + UInt64(text[j] - 48); j += 1 }
                total += v
                i = j
            } else {
                i += 1
            }
        }
        return total
    }
}

/// "A process switch flushed the TLB: yes / no / partly", from the idle-B rows.
public enum PollutionVerdict {
    public enum Answer: String, Sendable { case yes, no, partly, inconclusive }

    public struct Point: Sendable, Equatable {
        public var w: Int
        public var process: Statistics
        public var thread: Statistics
        public var none: Statistics
        public var flush: Statistics
        public init(w: Int, process: Statistics, thread: Statistics, none: Statistics, flush: Statistics) {
            self.w = w; self.process = process; self.thread = thread; self.none = none; self.flush = flush
        }
        /// The flush reference is visible: its penalty is above none's by more than both CIs and ≥ 1 ns/page.
        public var flushVisible: Bool { flush.ci95Low > none.ci95High && flush.median - none.median >= 1 }
        public var reference: Double { flush.median - none.median }
        public var excess: Double { process.median - thread.median }
        /// The process penalty exceeds the thread penalty by more than its CI, and by at least a quarter
        /// of what a real flush of these pages costs: the few L1 dTLB entries a switch's own kernel and
        /// B accesses evict (measured here: about a tenth of a flush at W ≤ 64) are not a flush.
        public var significant: Bool { process.ci95Low > thread.ci95High && excess >= 0.25 * reference }
    }

    /// The decision: over the W where a flush is visible, a majority must show process > thread
    /// beyond the CIs (and by ≥ 25 % of a flush); then the median share of a full flush says yes
    /// (≥ 60 %) or partly. Anything less is "no" (the default); no visible flush at all is "inconclusive".
    public static func decide(_ points: [Point]) -> (answer: Answer, evidence: String) {
        guard !points.isEmpty else {
            return (.inconclusive, "needs the process, thread, none and flush cases with an idle B (see --mechanism)")
        }
        let usable = points.filter(\.flushVisible)
        guard !usable.isEmpty else {
            return (.inconclusive, "the mprotect flush reference did not rise above the no-switch case at any W")
        }
        let sig = usable.filter(\.significant)
        let shares = usable.map { $0.reference > 0 ? $0.excess / $0.reference : 0 }
        let medianShare = KneeDetector.median(shares)
        let detail = usable.map { p in
            String(format: "W=%d: process %.2f [%.2f, %.2f], thread %.2f [%.2f, %.2f], flush %.2f ns/page",
                   p.w, p.process.median, p.process.ci95Low, p.process.ci95High,
                   p.thread.median, p.thread.ci95Low, p.thread.ci95High, p.flush.median)
        }.joined(separator: "; ")
        let aboveCI = usable.filter { $0.process.ci95Low > $0.thread.ci95High }.count
        let summary = String(format: """
            of %d W where a flush is visible, process above thread beyond the 95 %% CIs at %d, and also by ≥ 25 %% of a full flush at %d; median \
            excess %.0f %% of a full flush
            """,
                             usable.count, aboveCI, sig.count, medianShare * 100)
        let answer: Answer
        if sig.count * 2 > usable.count {
            answer = KneeDetector.median(sig.map { $0.excess / $0.reference }) >= 0.6 ? .yes : .partly
        } else {
            answer = .no
        }
        return (answer, summary + " (" + detail + ")")
    }

    public static func points(_ rows: [Record]) -> [Point] {
        func get(_ m: String, _ w: Int) -> Statistics? {
            rows.first { $0.harness == "pollution" && $0.mechanism == m && $0.footprintBytes == 0 && $0.workingSetPages == w
                && $0.metric == "rewalk_penalty_per_page" }?.stats
        }
        let ws = Set(rows.compactMap(\.workingSetPages)).sorted()
        return ws.compactMap { w in
            guard let p = get("process", w), let t = get("thread", w), let n = get("none", w), let f = get("flush", w) else { return nil }
            return Point(w: w, process: p, thread: t, none: n, flush: f)
        }
    }

    static func record(_ rows: [Record], environment: Environment, cpu: Int) -> Record {
        let (answer, evidence) = decide(points(rows))
        var r = Record(harness: "pollution", mechanism: "verdict", placement: Placement.sameCPU.rawValue, cpus: [cpu],
                       tasks: 2, metric: "process_switch_flushed_tlb", unit: "", samples: [], opsPerSample: 0)
        r.setFact(answerKey, answer.rawValue)
        r.note = "\(answer.rawValue): \(evidence); PCID \(environment.pcid ? "on" : "off")"
        return r
    }

    static let answerKey = "answer"
    static let warmWalkKey = "warm_walk_ns_per_page"

    /// The answer of a run: its verdict row's fact, or (a CSV from before the facts column, or no
    /// verdict row) decided again from the rows it is made of. nil: the pollution harness did not run.
    public static func answer(_ run: RunResult) -> Answer? {
        let rows = run.records(harness: "pollution")
        guard !rows.isEmpty else { return nil }
        if let v = rows.first(where: { $0.mechanism == "verdict" })?.fact(answerKey), let a = Answer(rawValue: v) { return a }
        let p = points(rows)
        if !p.isEmpty { return decide(p).answer }
        // The harness wrote a verdict row without the rows to decide on: it said inconclusive.
        return rows.contains { $0.mechanism == "verdict" } ? .inconclusive : nil
    }

    /// The warm walk (ns per page) of a rewalk row; for an old CSV, read from this harness's own note.
    public static func warmWalk(_ r: Record) -> Double? {
        if let v = r.factNumber(warmWalkKey) { return v }
        guard let range = r.note.range(of: "warm walk ") else { return nil }
        return Double(r.note[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }
}
