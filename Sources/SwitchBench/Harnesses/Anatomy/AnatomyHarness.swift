import CSwitchBench
import Glibc

/// The course note's model of a switch, part by part (进程切换分两步：1、切换页表；2、切换内核栈和硬件
/// 上下文；线程切换只需要第二步), all on one CPU, each part a row with the kernel's own count as proof:
///
///   getppid      the privilege switch alone: a system call round trip (0 switches per call)
///   page-fault   the exception path: first touch of a fresh anonymous 4 KiB page (1 fault per touch)
///   sched-yield  a pass of the scheduler with nothing else to run: sched_yield() alone (0 switches)
///   yield        two threads vs two processes taking turns with sched_yield() (1 switch per switch,
///                no IPC), measured in alternating pairs (`Sampler.runPaired`): step 2 alone vs steps
///                1 + 2, and step 1 as their paired difference
///   futex, pipe  the same pairs (every task SCHED_BATCH) handing a token over with futex or a pipe: the note's claim C1 on
///                real IPC, and the IPC alone (one task, no switch) for the prediction check
///   wake-sleep   a futex hand-off's halves timed alone: waking a sleeper, and going to sleep
///                (WakeSleep.swift)
///   avx512, amx  the hardware context: a thread switch with the vector registers in use vs clean
///   ibpb         the mitigation's price: a process switch with a forced indirect branch barrier vs without
///
/// The paired cases keep a process ring and a thread ring (or two of one kind) alive together, each
/// driven by a task of its own, and time them in alternating rounds.
public struct AnatomyHarness: Harness {
    public init() {}
    public let info = HarnessInfo("anatomy", claims: ["C1"], summary: """
        the note's two steps of a switch, part by part on one CPU: privilege switch, page fault, scheduler, thread vs process switch in alternating pairs, \
        waking a sleeper and going to sleep timed alone, vector state, IBPB
        """, mechanisms: [
        ("getppid", "privilege switch: syscall(SYS_getppid) round trip, no switch"),
        ("page-fault", "exception path: first write to a fresh anonymous 4 KiB page (MADV_NOHUGEPAGE): fault, allocation, zeroing"),
        ("sched-yield", "a scheduler pass with nothing else runnable: sched_yield() alone, no switch"),
        ("yield", "two threads vs two processes taking turns with sched_yield(), paired rounds: step 2 vs steps 1 + 2"),
        ("futex", "the same pairs handing a token over with FUTEX_WAKE/FUTEX_WAIT, paired rounds (claim C1)"),
        ("pipe", "the same pairs handing one byte over through pipes, paired rounds (claim C1)"),
        ("wake-sleep", """
            a futex hand-off's halves timed alone, processes then threads (SCHED_BATCH, one CPU): FUTEX_WAKE of a sleeper vs with none (the wake-up path), and \
            FUTEX_WAIT going to sleep until the woken task runs
            """),
        ("avx512", "a thread yield switch with AVX-512 registers in use vs clean, paired rounds"),
        ("amx", "a thread yield switch with AMX tiles loaded vs clean, paired rounds (needs AMX and ARCH_REQ_XCOMP_PERM)"),
        ("ibpb", "a process yield switch with a forced indirect branch barrier (prctl) vs without, paired rounds")],
        op: "one process switch taken apart on one CPU, each part alone", section: "anatomy")
    public var runQueueSensitive: Bool { true }
    /// The paired `sched_yield()` switches: the class table's thread and process switch (`Ledger`).
    public var switchKinds: [SwitchKind] {
        let how = ("two tasks on one CPU take turns with `sched_yield()`: no wake-up, no sleep, timed in alternating pairs",
                   "两个任务在同一处理器上用 `sched_yield()` 轮流让出：不唤醒、不睡眠，交替成对计时")
        return [SwitchKind(harness: id, mechanism: "yield", metric: "thread_switch", tier: .thread, en: "thread switch", zh: "线程切换",
                           detail: "sched_yield", plotted: false, classRank: 0, paired: true, forced: how),
                SwitchKind(harness: id, mechanism: "yield", metric: "process_switch", tier: .process, en: "process switch", zh: "进程切换",
                           detail: "sched_yield", plotted: false, classRank: 0, paired: true, forced: how)]
    }

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        selectedMechanisms(options).map { m in
            CaseSpec(harness: id, mechanism: m, placement: .sameCPU, tasks: Self.pairs.contains(m) || m == "wake-sleep" ? 2 : 1)
        }
    }

    /// Mechanisms measured as a pair of rings, and the two sides of each: (a, b) with a ÷ b reported.
    static let pairs: Set<String> = ["yield", "futex", "pipe", "avx512", "amx", "ibpb"]

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        var rows = try measure(spec, context: context)
        if spec.mechanism == "avx512" || spec.mechanism == "amx", let x = Self.xsave() {
            // The hardware context's size on this machine, beside the rows that make it dirty.
            for i in rows.indices {
                rows[i].setFact(Self.xcr0Key, String(format: "0x%llx", x.xcr0))
                rows[i].setFact(Self.xsaveBytesKey, Double(x.standard))
                rows[i].setFact(Self.xsavesBytesKey, Double(x.compacted))
            }
        }
        return rows
    }

    static let xcr0Key = "xcr0", xsaveBytesKey = "xsave_bytes", xsavesBytesKey = "xsaves_compacted_bytes"

    func measure(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let cpu = context.allowedCPUs[0]
        let config = context.options.sampler
        switch spec.mechanism {
        case "getppid", "sched-yield":
            return [try Affinity.pinned([cpu]) { try call(spec.mechanism, cpu: cpu, config: config) }]
        case "page-fault":
            return [try Affinity.pinned([cpu]) { try pageFault(cpu: cpu, config: config) }]
        case "yield":
            return try paired(spec, cpu: cpu, config: config,
                              a: .init(name: "process", kind: .process), b: .init(name: "thread", kind: .thread))
        case "futex", "pipe":
            // SCHED_BATCH, as the wake-sleep pair: a woken task never preempts its waker, so every
            // hand-off is one wake-up and one sleep, what the parts predict.
            let batch = TokenRingHarness.TaskSetup(batch: true)
            return try paired(spec, cpu: cpu, config: config,
                              a: .init(name: "process", kind: .process, setup: batch), b: .init(name: "thread", kind: .thread, setup: batch),
                              stamping: Self.stampTarget(context.options))
        case "wake-sleep":
            return try Affinity.pinned([cpu]) { try wakeSleep(spec, cpu: cpu, config: config) }
        case "avx512":
            if sb_avx512_usable() == 0 {
                return [notAvailable(spec, cpu: cpu, why: "no AVX-512 here (CPUID 7 EBX bit 16, or its state components not enabled in XCR0)")]
            }
            return try paired(spec, cpu: cpu, config: config,
                              a: .init(name: "dirty", kind: .thread, setup: .init(vectors: 1)), b: .init(name: "clean", kind: .thread))
        case "amx":
            if sb_amx_present() == 0 { return [notAvailable(spec, cpu: cpu, why: "no AMX here (CPUID 7 EDX bit 24)")] }
            let r = sb_amx_request()
            if r != 0 { return [notAvailable(spec, cpu: cpu, why: "arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) refused: \(errnoText(-r))")] }
            return try paired(spec, cpu: cpu, config: config,
                              a: .init(name: "dirty", kind: .thread, setup: .init(vectors: 2)), b: .init(name: "clean", kind: .thread))
        case "ibpb":
            if let why = Self.indirectBranchBarrierRefused() { return [notAvailable(spec, cpu: cpu, why: why)] }
            return try paired(spec, cpu: cpu, config: config,
                              a: .init(name: "barrier", kind: .process, setup: .init(indirectBranchBarrier: true)),
                              b: .init(name: "plain", kind: .process))
        default:
            throw SwitchBenchError.usage("unknown anatomy mechanism '\(spec.mechanism)'")
        }
    }

    // MARK: single-task parts

    /// getppid or a lone sched_yield(): per call, with the switch count (expected 0).
    func call(_ mechanism: String, cpu: Int, config: SamplerConfig) throws -> Record {
        let counter = SwitchCounter()
        var sink = 0
        let measured = try Sampler.run(config, counter: counter) { k in
            if mechanism == "getppid" {
                for _ in 0..<k { sink &+= sb_syscall_getppid() }
            } else {
                for _ in 0..<k { sink &+= Int(sched_yield()) }
            }
        }
        withExtendedLifetime(sink) {}
        return SyscallHarness.perCallRow(harness: id, mechanism: mechanism, cpu: cpu, measured: measured, counter: counter,
                                         note: mechanism == "getppid" ? "one kernel entry and exit per call"
                                             : "sched_yield() with nothing else runnable on CPU \(cpu): the scheduler picks this thread again")
    }

    /// Pages a page-fault batch maps at most at once (larger batches map again): 64 MiB.
    static let faultChunkPages = 16_384

    /// The first write to each page of a fresh anonymous mapping, 4 KiB pages: one minor fault each.
    /// mmap, madvise and munmap are outside the timed region; the page-fault counter is the proof.
    func pageFault(cpu: Int, config: SamplerConfig) throws -> Record {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let faults = try? PerfCounter(.pageFaults, inherit: false)
        let counter = SwitchCounter()
        var faultTotal = 0.0, faultOps = 0
        let measured = try Sampler.runTimed(config, counter: counter) { n in
            var ns: UInt64 = 0, span: UInt64 = 0, stolen: UInt64 = 0
            var left = n
            while left > 0 {
                let k = min(left, Self.faultChunkPages)
                left -= k
                guard let p = mmap(nil, k * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
                    throw SwitchBenchError.caseFailed("mmap of \(k) pages failed: \(errnoText(errno))")
                }
                defer { munmap(p, k * page) }
                _ = madvise(p, k * page, 15 /* MADV_NOHUGEPAGE */)
                let bytes = p.assumingMemoryBound(to: UInt8.self)
                faults?.reset()
                faults?.enable()
                let c0 = Sampler.threadCPUNanoseconds()
                let t0 = monotonicNanoseconds()
                var i = 0
                while i < k { bytes[i * page] = 1; i += 1 }
                let t1 = monotonicNanoseconds()
                let c1 = Sampler.threadCPUNanoseconds()
                faults?.disable()
                if let f = faults?.read() { faultTotal += f.value; faultOps += k }
                ns += t1 - t0
                span += t1 - t0
                stolen += (t1 - t0) > (c1 &- c0) ? (t1 - t0) - (c1 &- c0) : 0
            }
            return TimedSample(ns: ns, spanNs: span, stolenNs: stolen)
        }
        var r = Record(harness: id, mechanism: "page-fault", placement: Placement.sameCPU.rawValue, cpus: [cpu], tasks: 1,
                       pageSizeBytes: page, metric: "per_fault", samples: measured.perOp, opsPerSample: measured.opsPerSample,
                       switchesPerOp: measured.switchesPerOp, expectedSwitchesPerOp: 0, counterSource: counter.source,
                       cpusSeen: String(sb_sched_getcpu()))
        r.applySampling(measured)
        r.addNote("""
            first write to a fresh anonymous \(page / 1024) KiB page (MADV_NOHUGEPAGE): exception entry, page allocation, zeroing the page, page-table update, \
            return
            """)
        if faultOps > 0 {
            let perTouch = faultTotal / Double(faultOps)
            r.setFact(Self.faultsPerTouchKey, perTouch)
            if abs(perTouch - 1) > 0.05 { r.invalidate(String(format: "the kernel counted %.3f page faults per touch, expected 1", perTouch)) }
        } else {
            r.addNote("page faults not counted (no perf software counter here)")
        }
        if let spo = measured.switchesPerOp, spo > 0.01 {
            r.invalidate(String(format: "kernel counted %.3f switches per fault, expected none", spo))
        }
        return r
    }

    static let faultsPerTouchKey = "page_faults_per_touch"

    // MARK: paired rings

    /// One side of a paired case: a ring of two tasks of a kind, set up in a way.
    struct Side {
        var name: String
        var kind: TaskKind
        var setup: TokenRingHarness.TaskSetup = .none
    }

    /// Two rings of two tasks on one CPU, each driven by a task of its own, timed in alternating
    /// rounds. Rows: each side's `<name>_switch` (per switch, with its kernel count), the pair's
    /// `<a>_over_<b>` (median of per-pair ratios) and `<a>_minus_<b>` (per switch, median of per-pair
    /// differences), and the IPC alone where the hand-off has one.
    /// `stamping`: hand-offs each ring stamps one at a time after the paired samples (futex and pipe
    /// pairs: `<side>_hand_off` rows, RingLatency.swift), 0 for none.
    func paired(_ spec: CaseSpec, cpu: Int, config: SamplerConfig, a: Side, b: Side, stamping: Int = 0) throws -> [Record] {
        // The futex and pipe pairs hand the token over by their IPC; every other pair takes turns by yielding.
        let mechanism = ["futex", "pipe"].contains(spec.mechanism) ? spec.mechanism : "yield"
        let ringSpec = CaseSpec(harness: id, mechanism: mechanism, placement: .sameCPU, tasks: 2)
        let ringA = try RingInstance(kind: a.kind, spec: ringSpec, taskCPUs: [cpu, cpu], config: config, driven: true, setup: a.setup,
                                     stampCapacity: stamping)
        defer { ringA.close() }
        let ringB = try RingInstance(kind: b.kind, spec: ringSpec, taskCPUs: [cpu, cpu], config: config, driven: true, setup: b.setup,
                                     stampCapacity: stamping)
        defer { ringB.close() }
        let m = try Sampler.runPaired(config, a: PairSide(counter: ringA.counter, batch: ringA.sample),
                                      b: PairSide(counter: ringB.counter, batch: ringB.sample))
        let stamped = stamping > 0
            ? (try ringA.stampHandOffs(stamping, limitNs: Self.stampLimitNs), try ringB.stampHandOffs(stamping, limitNs: Self.stampLimitNs))
            : nil
        try ringA.finish()
        try ringB.finish()

        // Each side's rows as the ring harness makes them (switch count and placement checked there),
        // of which the per-switch row is kept, renamed.
        func sideRow(_ side: Side, _ ring: RingInstance, _ measured: Measured) -> Record {
            let rows = TokenRingHarness(kind: side.kind).makeRecords(
                spec: ringSpec, n: 2, taskCPUs: [cpu, cpu], placementNote: "", measured: measured, ipc: ring.ipc,
                touch: nil, counter: ring.counter, cpuSeen: ring.cpusSeen)
            var r = rows.first { $0.metric == "per_switch" }!
            r.harness = id
            r.mechanism = spec.mechanism
            r.metric = "\(side.name)_switch"
            r.note = r.note.replacingOccurrences(of: "round trip / 2",
                                                 with: "two \(side.kind == .process ? "processes" : "threads") taking turns (\(mechanism)), round trip / 2")
            r.setFact(Self.pairsKey, Double(m.pairs))
            return r
        }
        var rowA = sideRow(a, ringA, m.a), rowB = sideRow(b, ringB, m.b)
        let invalid = [rowA, rowB].filter { !$0.valid }.map { "\($0.metric): \($0.note)" }
        func pairRow(_ metric: String, _ values: [Double], unit: String, note: String) -> Record {
            var r = Record(harness: id, mechanism: spec.mechanism, placement: Placement.sameCPU.rawValue, cpus: [cpu],
                           tasks: 2, metric: metric, unit: unit, samples: values, opsPerSample: m.a.opsPerSample,
                           cpusSeen: rowA.cpusSeen, flagNoisy: unit == "ratio")
            r.addNote(note)
            r.setFact(Self.pairsKey, Double(m.pairs))
            r.setFact(Self.firstKey, Double(m.aFirst))
            r.applySampling(m.a)
            for why in invalid { r.invalidate("a side is invalid (\(why))") }
            return r
        }
        let ratio = pairRow("\(a.name)_over_\(b.name)", m.ratios, unit: "ratio",
                            note: "median over \(m.pairs) pairs of (\(a.name) ÷ \(b.name)) per pair, order drawn at random (\(a.name) first in \(m.aFirst))")
        let diff = pairRow("\(a.name)_minus_\(b.name)", m.differences.map { $0 / 2 }, unit: "ns",
                           note: "median over \(m.pairs) pairs of (\(a.name) − \(b.name)) per switch")
        rowA.setFact(Self.firstKey, Double(m.aFirst))
        rowB.setFact(Self.firstKey, Double(m.aFirst))
        var rows = [rowA, rowB, ratio, diff]
        if let stamped {
            rows += [Self.handOffRow(stamped.0, side: a, like: rowA), Self.handOffRow(stamped.1, side: b, like: rowB)].compactMap { $0 }
        }
        if ["futex", "pipe", "yield"].contains(spec.mechanism) {
            // The hand-off without a switch (one task): what the prediction adds to a yield switch.
            var ipc = Record(harness: id, mechanism: spec.mechanism, placement: Placement.sameCPU.rawValue, cpus: [cpu], tasks: 1,
                             metric: "ipc_alone", samples: ringB.ipc.perOp, opsPerSample: ringB.ipc.opsPerSample, cpusSeen: String(cpu))
            ipc.addNote(TokenRingHarness.ipcNote(mechanism))
            ipc.applySampling(ringB.ipc)
            rows.append(ipc)
        }
        return rows
    }

    /// Hand-offs stamped per futex or pipe ring: fewer than the ring harness's (its 100 000 each way
    /// serve the tail; here the distribution's middle beside the batch row), at most 0.2 s a ring.
    static func stampTarget(_ o: RunOptions) -> Int { o.quick ? 4_000 : 40_000 }
    static let stampLimitNs: UInt64 = 200_000_000

    /// A side's one-way hand-offs (task 0 → task 1; both tasks are alike) as the ring harness makes
    /// them, renamed `<side>_hand_off`; not traced here (the `process` and `thread` rings trace theirs).
    static func handOffRow(_ s: RingInstance.HandOffStamps, side: Side, like base: Record) -> Record? {
        let run = TokenRingHarness.HandOffRun(stamps: s, clock: StampClock.shared, traced: nil, recording: nil,
                                              traceUnavailable: "the anatomy pairs are not traced (the process and thread harnesses' rings are)")
        guard var r = TokenRingHarness.latencyRecords(run, like: base, taskCPUs: [base.cpus.first ?? 0, base.cpus.first ?? 0])
            .first(where: { $0.metric == "hand_off_ab" }) else { return nil }
        r.metric = "\(side.name)_hand_off"
        return r
    }

    static let pairsKey = PairedMeasured.pairsKey
    static let firstKey = "a_first"

    /// Why a forced indirect branch barrier cannot be asked for here (prctl's errno, tried in a
    /// throwaway child), nil when it can.
    static func indirectBranchBarrierRefused() -> String? {
        let pid = fork()
        if pid == 0 {
            let r = sb_force_indirect_branch_barrier()
            _exit(r == 0 ? 0 : Int32(min(-r, 255)))
        }
        guard pid > 0 else { return "fork() failed: \(errnoText(errno))" }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = TaskGroup.exitStatus(status)
        guard TaskGroup.exited(status) else { return "the probe child \(TaskGroup.describe(status))" }
        return code == 0 ? nil : """
            prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE) refused: \(errnoText(code)) (the kernel's spectre_v2_user \
            mitigation is not under prctl control here)
            """
    }

    /// The row of a part that cannot run here: no samples, `valid=true`, the reason as a fact and a note.
    func notAvailable(_ spec: CaseSpec, cpu: Int, why: String) -> Record {
        var r = Record(harness: id, mechanism: spec.mechanism, placement: Placement.sameCPU.rawValue, cpus: [cpu], tasks: spec.tasks,
                       metric: "not_available", unit: "", samples: [], opsPerSample: 0)
        r.setFact(Self.notAvailableKey, why.replacingOccurrences(of: ";", with: ",").replacingOccurrences(of: "=", with: ":"))
        r.addNote("n/a: " + why)
        return r
    }

    static let notAvailableKey = "why_not_available"

    /// The XSAVE facts of this machine: enabled state components (XCR0) and the area sizes.
    public static func xsave() -> (xcr0: UInt64, standard: Int, compacted: Int)? {
        var xcr0: UInt64 = 0
        var std: UInt32 = 0, comp: UInt32 = 0
        guard sb_xsave_info(&xcr0, &std, &comp) == 0 else { return nil }
        return (xcr0, Int(std), Int(comp))
    }
}
