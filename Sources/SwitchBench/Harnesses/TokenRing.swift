import CSwitchBench
import Glibc

/// How the tasks of a token ring are created: the one thing that differs between the
/// `process` and `thread` harnesses, so their difference is the address-space switch (claim C1).
public enum TaskKind: String, Sendable {
    case process
    case thread
}

/// Process and thread switches: N tasks pass a token around a ring (N = 2 is a ping-pong).
/// One op = one lap of the token = N hand-offs; on one CPU each hand-off is a context switch.
///
///   pipe:  task i writes one byte into pipe i; task i+1 reads it (lmbench lat_ctx, perf bench sched pipe).
///   futex: task i sets word i+1 to 1 and FUTEX_WAKEs it; task i+1 sleeps in FUTEX_WAIT on its word.
///
/// Task 0 is the measuring thread itself; tasks 1…N−1 are forked children (`process`) or pthreads
/// (`thread`) running `serve`, which makes only system calls (no Swift allocation after fork).
public struct TokenRingHarness: Harness {
    public let kind: TaskKind
    public init(kind: TaskKind) { self.kind = kind }

    public var id: String { kind.rawValue }
    public var summary: String {
        kind == .process
            ? "context switch between processes (fork): token ring over pipes or a shared futex word"
            : "context switch between threads of one process: the same ring, no address-space change"
    }
    public var claims: [String] { ["C1"] }
    public var mechanisms: [(id: String, summary: String)] {
        [("pipe", "one byte through a ring of pipes (blocking read/write)"),
         ("futex", "a word per task in MAP_SHARED memory, FUTEX_WAIT / FUTEX_WAKE")]
    }
    public var placements: [Placement] { Placement.allCases }

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        var specs: [CaseSpec] = []
        for m in selectedMechanisms(options) {
            for p in selectedPlacements(options) {
                for n in options.tasks {
                    for f in options.footprints {
                        specs.append(CaseSpec(harness: id, mechanism: m, placement: p, tasks: n, footprint: f))
                    }
                }
            }
        }
        return specs
    }

    enum Mechanism: UInt8 { case pipe, futex }

    /// Everything one task needs, as plain values and pointers into memory allocated before
    /// the task starts: a forked child may not allocate.
    struct HopTask {
        var index: Int32
        var mechanism: Mechanism
        var readFD: Int32 = -1
        var writeFD: Int32 = -1
        var word: UnsafeMutablePointer<UInt32>
        var nextWord: UnsafeMutablePointer<UInt32>
        var stop: UnsafeMutablePointer<UInt32>
        /// [CPU at start, CPU at end] as seen by sched_getcpu().
        var cpuSeen: UnsafeMutablePointer<Int32>
        var cpu: Int32
        var footprint: UnsafeMutablePointer<UInt8>?
        var footprintBytes: Int
        var isThread: Bool
        /// Run as SCHED_BATCH: no wakeup preemption, so a task switches only when it blocks.
        /// Rings of more than two need it: under SCHED_OTHER a woken task preempts the writer, which
        /// later switches back in only to block — measured here, 5.6 switches per lap of 4 instead of 4.
        /// With two tasks the preempted writer is the one awaiting the reply, so the count is 2 either
        /// way, and the policy stays the default one that `perf bench sched pipe` runs under.
        var batch: Bool
        /// Every pipe fd of the ring: a forked child closes those that are not its own.
        var allFDs: UnsafeMutableBufferPointer<Int32>
    }

    /// The loop of tasks 1…N−1: receive the token, touch the footprint, pass it on.
    /// Only system calls and plain memory accesses: it runs in forked children.
    static func serve(_ t: HopTask) {
        if t.cpu >= 0 {
            var c = t.cpu
            _ = sb_set_affinity(&c, 1)
        }
        if t.batch { _ = sb_set_sched_batch(1) }
        t.cpuSeen[0] = Int32(sb_sched_getcpu())
        var byte: UInt8 = 0
        switch t.mechanism {
        case .pipe:
            while read(t.readFD, &byte, 1) == 1 {
                if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
                if write(t.writeFD, &byte, 1) != 1 { break }
            }
        case .futex:
            outer: while true {
                while sb_load_acquire(t.word) == 0 {
                    _ = sb_futex_wait(t.word, 0, 0, 1)
                }
                sb_store_release(t.word, 0)
                if sb_load_acquire(t.stop) != 0 { break outer }
                if let f = t.footprint { _ = sb_touch_lines(f, t.footprintBytes) }
                sb_store_release(t.nextWord, 1)
                _ = sb_futex_wake(t.nextWord, 1, 1)
            }
        }
        t.cpuSeen[1] = Int32(sb_sched_getcpu())
        // Threads share the fd table: closing our write end passes end-of-file down the ring.
        if t.isThread && t.mechanism == .pipe { close(t.writeFD) }
    }

    /// Parent-side futex wait: with a timeout, so a child that died is noticed instead of hanging.
    static let parentWaitNs = 500_000_000

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let n = spec.tasks
        signal(SIGPIPE, SIG_IGN)   // a dead reader must show as EPIPE, not kill us
        guard n >= 2 else { throw SwitchBenchError.usage("--tasks must be at least 2 for \(id) (got \(n))") }
        let mech: Mechanism = spec.mechanism == "futex" ? .futex : .pipe
        let (taskCPUs, placementNote) = context.cpus(for: spec.placement, tasks: n)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

        // Shared memory: a futex word per task on its own cache line, the stop flag, a word for the
        // no-switch IPC baseline, then the CPUs each task saw.
        let sharedBytes = (64 * (n + 2) + 8 * n + pageSize - 1) / pageSize * pageSize
        guard let shared = mmap(nil, sharedBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              shared != MAP_FAILED else { throw SwitchBenchError.caseFailed("mmap of shared memory failed: \(errnoText(errno))") }
        defer { munmap(shared, sharedBytes) }
        func word(_ i: Int) -> UnsafeMutablePointer<UInt32> {
            (shared + 64 * i).assumingMemoryBound(to: UInt32.self)
        }
        let stop = word(n)
        let cpuSeen = (shared + 64 * (n + 2)).assumingMemoryBound(to: Int32.self)
        for i in 0..<(2 * n) { cpuSeen[i] = -1 }

        // Each task's own footprint, written once here so every page is real (not the zero page).
        let stride = (spec.footprint + pageSize - 1) / pageSize * pageSize
        var footprintBase: UnsafeMutableRawPointer? = nil
        if stride > 0 {
            guard let p = mmap(nil, stride * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else { throw SwitchBenchError.caseFailed("mmap of \(stride * n) bytes of footprint failed: \(errnoText(errno))") }
            memset(p, 1, stride * n)
            footprintBase = p
        }
        defer { if let p = footprintBase { munmap(p, stride * n) } }
        func footprint(_ i: Int) -> UnsafeMutablePointer<UInt8>? {
            footprintBase.map { ($0 + stride * i).assumingMemoryBound(to: UInt8.self) }
        }

        // Pipes: pipe i is written by task i and read by task i+1.
        let allFDs = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 2 * n)
        allFDs.initialize(repeating: -1)
        defer { allFDs.deallocate() }
        var openFDs = Set<Int32>()
        defer { for fd in openFDs { close(fd) } }
        if mech == .pipe {
            for i in 0..<n {
                var p: [Int32] = [0, 0]
                guard pipe(&p) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))") }
                allFDs[2 * i] = p[0]
                allFDs[2 * i + 1] = p[1]
                openFDs.formUnion(p)
            }
        }
        var tasks: [HopTask] = (0..<n).map { i in
            HopTask(index: Int32(i), mechanism: mech,
                    readFD: mech == .pipe ? allFDs[2 * ((i + n - 1) % n)] : -1,
                    writeFD: mech == .pipe ? allFDs[2 * i + 1] : -1,
                    word: word(i), nextWord: word((i + 1) % n), stop: stop,
                    cpuSeen: cpuSeen + 2 * i,
                    cpu: taskCPUs.isEmpty ? -1 : Int32(taskCPUs[i]),
                    footprint: footprint(i), footprintBytes: spec.footprint,
                    isThread: kind == .thread, batch: n > 2, allFDs: allFDs)
        }

        // Task 0 is this thread: pin it like the others, and restore its affinity afterwards.
        return try Affinity.pinned(taskCPUs.isEmpty ? [] : [taskCPUs[0]]) {
            // The cost of one hand-off without a switch, and of one footprint touch, in one task.
            let ipc = try Self.measureIPC(mech, config: context.options.sampler, word: word(n + 1))
            var touch: Measured? = nil
            if let f = footprint(0) {
                touch = try Sampler.run(context.options.sampler) { k in
                    for _ in 0..<k { _ = sb_touch_lines(f, spec.footprint) }
                }
            }

            let counter = SwitchCounter()   // before the tasks exist, so they inherit it
            var group = TaskGroup(kind: kind)
            // Stop the ring (also on error, before reaping): end-of-file down the pipes, or the stop flag.
            var stopped = false
            func stopRing() {
                guard !stopped else { return }
                stopped = true
                if mech == .pipe {
                    close(tasks[0].writeFD)
                    openFDs.remove(tasks[0].writeFD)
                    if kind == .thread {
                        // Each thread closes its own write end when it sees end-of-file.
                        for i in 1..<n { openFDs.remove(tasks[i].writeFD) }
                    }
                } else {
                    sb_store_release(stop, 1)
                    for i in 1..<n {
                        sb_store_release(word(i), 1)
                        _ = sb_futex_wake(word(i), 1, 1)
                    }
                }
            }
            defer {
                stopRing()
                group.teardown()
            }
            for i in 1..<n {
                try group.start(tasks[i], keeping: [tasks[i].readFD, tasks[i].writeFD])
            }
            counter.childPIDs = group.pids
            if kind == .process && mech == .pipe {
                // Keep only task 0's two ends, so a dead child shows as end-of-file.
                for fd in openFDs where fd != tasks[0].readFD && fd != tasks[0].writeFD {
                    close(fd)
                    openFDs.remove(fd)
                }
            }
            if tasks[0].batch { _ = sb_set_sched_batch(1) }
            defer { if tasks[0].batch { _ = sb_set_sched_batch(0) } }
            tasks[0].cpuSeen[0] = Int32(sb_sched_getcpu())
            let t0 = tasks[0]
            var byte: UInt8 = 7

            // The timed op: one lap of the token around the ring.
            let measured = try Sampler.run(context.options.sampler, counter: counter) { laps in
                switch mech {
                case .pipe:
                    for _ in 0..<laps {
                        guard write(t0.writeFD, &byte, 1) == 1, read(t0.readFD, &byte, 1) == 1 else {
                            throw group.failure(during: "passing the token")
                        }
                        if let f = t0.footprint { _ = sb_touch_lines(f, t0.footprintBytes) }
                    }
                case .futex:
                    for _ in 0..<laps {
                        sb_store_release(t0.nextWord, 1)
                        _ = sb_futex_wake(t0.nextWord, 1, 1)
                        while sb_load_acquire(t0.word) == 0 {
                            if sb_futex_wait(t0.word, 0, Self.parentWaitNs, 1) == -ETIMEDOUT, let e = group.deadChild() {
                                throw e
                            }
                        }
                        sb_store_release(t0.word, 0)
                        if let f = t0.footprint { _ = sb_touch_lines(f, t0.footprintBytes) }
                    }
                }
            }
            tasks[0].cpuSeen[1] = Int32(sb_sched_getcpu())

            stopRing()
            try group.join()

            return makeRecords(spec: spec, n: n, taskCPUs: taskCPUs, placementNote: placementNote,
                               measured: measured, ipc: ipc, touch: touch, counter: counter,
                               cpuSeen: (0..<n).map { (cpuSeen[2 * $0], cpuSeen[2 * $0 + 1]) })
        }
    }

    /// One hand-off without a switch, in one task: write+read on one pipe, or a futex wake with no
    /// waiter plus a wait that returns at once (the value already changed). lmbench subtracts the same.
    static func measureIPC(_ mech: Mechanism, config: SamplerConfig, word: UnsafeMutablePointer<UInt32>) throws -> Measured {
        switch mech {
        case .pipe:
            var p: [Int32] = [0, 0]
            guard pipe(&p) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))") }
            defer { close(p[0]); close(p[1]) }
            let r = p[0], w = p[1]
            var byte: UInt8 = 0
            return try Sampler.run(config) { k in
                for _ in 0..<k {
                    guard write(w, &byte, 1) == 1, read(r, &byte, 1) == 1 else {
                        throw SwitchBenchError.caseFailed("pipe write/read failed: \(errnoText(errno))")
                    }
                }
            }
        case .futex:
            return try Sampler.run(config) { k in
                for _ in 0..<k {
                    sb_store_release(word, 1)
                    _ = sb_futex_wake(word, 1, 1)
                    _ = sb_futex_wait(word, 0, parentWaitNs, 1)   // returns -EAGAIN: word is 1
                    sb_store_release(word, 0)
                }
            }
        }
    }

    func makeRecords(spec: CaseSpec, n: Int, taskCPUs: [Int], placementNote: String, measured: Measured,
                     ipc: Measured, touch: Measured?, counter: SwitchCounter,
                     cpuSeen: [(Int32, Int32)]) -> [Record] {
        let expected = Double(n)
        let spo = measured.switchesPerOp
        var problems: [String] = []
        if let spo {
            if abs(spo - expected) / expected > 0.10 {
                problems.append(String(format: "kernel counted %.2f switches per round trip, expected %.0f", spo, expected))
            }
        } else {
            problems.append("switches not counted")
        }
        // Placement proof: every task ran where it was pinned, at start and at end.
        if !taskCPUs.isEmpty {
            for (i, seen) in cpuSeen.enumerated() where Int(seen.0) != taskCPUs[i] || Int(seen.1) != taskCPUs[i] {
                problems.append("task \(i) ran on CPU \(seen.0)/\(seen.1), pinned to \(taskCPUs[i])")
            }
        }
        let seenText = cpuSeen.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)/\($0.1)" }.joined(separator: ",")
        let ipcMedian = Statistics(ipc.perOp).median
        let touchMedian = touch.map { Statistics($0.perOp).median } ?? 0

        func record(_ metric: String, _ values: [Double], note: String = "", switchRow: Bool = true,
                    ops: Int = measured.opsPerSample) -> Record {
            var r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue,
                           cpus: CPUList.format(taskCPUs), tasks: n, footprintBytes: spec.footprint,
                           metric: metric, samples: values, opsPerSample: ops,
                           switchesPerOp: switchRow ? spo : nil, expectedSwitchesPerOp: switchRow ? expected : nil,
                           counterSource: switchRow ? counter.source : "", cpusSeen: seenText)
            if !placementNote.isEmpty { r.addNote(placementNote) }
            if n > taskCPUs.count, spec.placement == .crossCPU, Set(taskCPUs).count < n { r.addNote("\(n) tasks share \(Set(taskCPUs).count) CPUs") }
            if !note.isEmpty { r.addNote(note) }
            if switchRow { for p in problems { r.invalidate(p) } }
            return r
        }
        let perOp = measured.perOp
        var rows = [
            record("round_trip", perOp, note: n > 2 ? "one lap of a ring of \(n) tasks, SCHED_BATCH (no wakeup preemption)" : ""),
            record("per_switch", perOp.map { $0 / Double(n) }, note: "round trip / \(n)"),
            record("net_switch", perOp.map { $0 / Double(n) - ipcMedian - touchMedian },
                   note: String(format: "round trip / %d − IPC hop %.1f ns", n, ipcMedian)
                       + (touch != nil ? String(format: " − footprint touch %.1f ns", touchMedian) : "")),
            record("ipc_overhead", ipc.perOp, note: spec.mechanism == "pipe"
                   ? "write+read of one byte on one pipe, one task, no switch"
                   : "FUTEX_WAKE with no waiter + FUTEX_WAIT that returns at once, one task, no switch",
                   switchRow: false, ops: ipc.opsPerSample),
        ]
        if let touch {
            rows.append(record("touch_overhead", touch.perOp, note: "reading one byte per cache line of \(spec.footprint) bytes, warm, no switch",
                               switchRow: false, ops: touch.opsPerSample))
        }
        return rows
    }
}

import Foundation
