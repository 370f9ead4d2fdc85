import CSwitchBench
import Dispatch
import Foundation
import Glibc

/// User-mode switches (claim C3): two coroutines on one thread hand control back and forth.
/// One sampler op = one round trip = two switches; `per_switch` = round trip / 2.
///
///   asm               stackful coroutine, sb_coro_switch in assembly (Coroutine)
///   ucontext          glibc swapcontext (also saves the signal mask with a system call)
///   swift-task        two Swift tasks resuming each other's continuation on SingleThreadExecutor
///   swift-task-yield  two Swift tasks alternating with Task.yield() on the same executor
///   swift-task-global the continuation ping-pong on Swift's default global executor (thread pool)
public struct CoroutineHarness: Harness {
    public init() {}
    public let info = HarnessInfo("coroutine", claims: ["C3"], summary: "user-mode switch between two coroutines on one thread (asm, ucontext, Swift tasks)",
                                  mechanisms: [
        ("asm", "stackful coroutines, switch in assembly (callee-saved registers + SP + FP control words); both sides run one hand-off loop"),
        ("asm-generator", "the same switch as a resume/yield pair (Coroutine.resume, Yielder.yield): a mispredicted return per switch"),
        ("ucontext", "glibc swapcontext: the same switch plus an rt_sigprocmask system call for the signal mask"),
        ("swift-task", "two Swift tasks resuming each other's continuation on a single-threaded executor of ours"),
        ("swift-task-yield", "two Swift tasks alternating with Task.yield() on the same executor"),
        ("swift-task-global", "the continuation ping-pong on Swift's default global executor (its thread pool)")],
        op: "one round trip (2 switches)", section: "coroutine")

    /// same-cpu for the coroutines of one thread; unpinned for the global executor's thread pool.
    public var placements: [Placement] { [.sameCPU, .unpinned] }
    public var switchKinds: [SwitchKind] {
        func kind(_ m: String, _ name: (en: String, zh: String), _ detail: String?, plotted: Bool) -> SwitchKind {
            SwitchKind(harness: id, mechanism: m, tier: .userMode, en: name.en, zh: name.zh, detail: detail, plotted: plotted)
        }
        let swiftTask = Terms.swiftTask
        var asm = kind("asm", Terms.coroutine, "asm", plotted: true)
        asm.classRank = 0
        asm.forced = ("each coroutine calls the switch routine, which saves its registers and stack pointer and loads the other's, in user mode",
                      "每个协程调用切换例程，在用户态保存自己的寄存器和栈指针、装入另一个协程保存的寄存器和栈指针")
        return [asm,
                kind("asm-generator", Terms.coroutine, "asm resume/yield", plotted: false),
                kind("ucontext", Terms.coroutine, "ucontext", plotted: true),
                kind("swift-task", swiftTask, nil, plotted: true),
                kind("swift-task-yield", swiftTask, "Task.yield", plotted: false)]
    }

    public func plan(_ options: RunOptions) -> [CaseSpec] {
        let placements = selectedPlacements(options)
        return selectedMechanisms(options).compactMap { m in
            let p: Placement = m == "swift-task-global" ? .unpinned : .sameCPU
            return placements.contains(p) ? CaseSpec(harness: id, mechanism: m, placement: p, tasks: 2) : nil
        }
    }

    public func run(_ spec: CaseSpec, context: RunContext) throws -> [Record] {
        let config = context.options.sampler
        if spec.mechanism == "swift-task-global" {
            // Not pinned: the global pool's threads inherit the affinity of the thread that makes them,
            // and they outlive the case.
            return try runGlobal(spec, config: config)
        }
        let cpu = context.allowedCPUs[0]
        return try Affinity.pinned([cpu]) {
            // perf, inherited: counts this thread (and nothing else the process runs meanwhile, such as
            // other test suites); there are no switches here for the event to slow down.
            let counter = SwitchCounter(usePerf: true)
            var extra: [String] = []
            var extraRows: [Record] = []
            var handOffs: [Double] = []
            let measured: Measured
            switch spec.mechanism {
            case "asm":
                measured = try Self.measureAsmSymmetric(config, counter: counter)
                extra.append("sb_coro_switch: rbx rbp r12–r15 + MXCSR + x87 CW (x86_64) / x19–x30 + d8–d15 (aarch64), no system call")
                extra.append("""
                    symmetric: both coroutines run the same hand-off loop (like the token ring's tasks), so each switch returns where the return predictor \
                    expects
                    """)
            case "asm-generator":
                measured = try Self.measureAsm(config, counter: counter)
                extra.append("sb_coro_switch: rbx rbp r12–r15 + MXCSR + x87 CW (x86_64) / x19–x30 + d8–d15 (aarch64), no system call")
                extra.append("resume/yield pair: each switch returns into other code than the call came from (a mispredicted return per switch)")
            case "ucontext":
                let (m, sigprocmask) = try Self.measureUcontext(config, counter: counter)
                measured = m
                extra.append("glibc swapcontext saves and restores the signal mask with an rt_sigprocmask system call on every switch")
                switch sigprocmask {
                case .success(let perSwitch):
                    extra.append(String(format: "rt_sigprocmask calls per switch: %.2f (tracepoint syscalls:sys_enter_rt_sigprocmask)", perSwitch))
                    var r = Record(harness: id, mechanism: spec.mechanism, placement: spec.placement.rawValue,
                                   cpus: [cpu], tasks: 2, metric: "rt_sigprocmask_per_switch", unit: "calls",
                                   samples: [perSwitch], opsPerSample: 1,
                                   note: "counted by the tracepoint syscalls:sys_enter_rt_sigprocmask over the switches")
                    if perSwitch < 0.9 { r.invalidate(String(format: "expected about 1 call per switch, counted %.2f", perSwitch)) }
                    extraRows.append(r)
                case .failure(let reason):
                    extra.append("rt_sigprocmask calls per switch: n/a (\(reason))")
                }
            case "swift-task", "swift-task-yield":
                let (m, jobsPerSwitch, oneWay) = try Self.measureOwnExecutor(config, counter: counter, yield: spec.mechanism == "swift-task-yield",
                                                                             stamping: Self.stampTarget(context.options))
                measured = m
                handOffs = oneWay
                extra.append(spec.mechanism == "swift-task"
                             ? "each switch: resume the other task's continuation, suspend in our own (withUnsafeContinuation)"
                             : "each switch: Task.yield() re-enqueues the running task behind the other")
                extra.append(String(format: "SingleThreadExecutor ran %.3f jobs per switch", jobsPerSwitch))
            default:
                throw SwitchBenchError.usage("unknown coroutine mechanism '\(spec.mechanism)'")
            }
            var rows = Self.records(harness: id, spec: spec, placement: spec.placement.rawValue, cpus: [cpu],
                                    measured: measured, switchesPerOp: measured.switchesPerOp, source: counter.source,
                                    notes: extra, cpusSeen: String(sb_sched_getcpu()))
            for i in rows.indices {
                // User mode only: the kernel should count (almost) no switch; timer ticks may preempt rarely.
                guard let spo = measured.switchesPerOp else { rows[i].invalidate("switches not counted"); continue }
                rows[i].expectedSwitchesPerOp = 0
                if spo > 0.01 { rows[i].invalidate(String(format: "kernel counted %.3f switches per round trip, expected none", spo)) }
            }
            if let base = rows.first(where: { $0.metric == "per_switch" }),
               let r = TokenRingHarness.latencyRecord(handOffs, metric: "hand_off", like: base, clock: .shared, causes: { _ in
                   .notAvailable("user-mode hand-offs: no kernel event marks them (the rings' causes come from the trace)")
               }) {
                extraRows.append(r)
            }
            return rows + extraRows
        }
    }

    /// round_trip and per_switch rows from one measurement.
    static func records(harness: String, spec: CaseSpec, placement: String, cpus: [Int], measured: Measured,
                        switchesPerOp: Double?, source: String, notes: [String], cpusSeen: String) -> [Record] {
        func make(_ metric: String, _ values: [Double], _ note: String) -> Record {
            var r = Record(harness: harness, mechanism: spec.mechanism, placement: placement, cpus: cpus, tasks: 2,
                           metric: metric, samples: values, opsPerSample: measured.opsPerSample,
                           switchesPerOp: switchesPerOp, counterSource: source, cpusSeen: cpusSeen)
            r.addNote(note)
            for n in notes { r.addNote(n) }
            r.applySampling(measured)
            return r
        }
        return [make("round_trip", measured.perOp, "there and back: two switches"),
                make("per_switch", measured.perOp.map { $0 / 2 }, "round trip / 2")]
    }

    // MARK: asm

    static func measureAsmSymmetric(_ config: SamplerConfig, counter: SwitchCounter) throws -> Measured {
        let coro = try Coroutine.symmetricPartner()
        coro.handOffs(1)
        return try Sampler.run(config, counter: counter) { k in coro.handOffs(k) }
    }

    static func measureAsm(_ config: SamplerConfig, counter: SwitchCounter) throws -> Measured {
        let coro = try Coroutine.echo()
        var sink = coro.resume(0)
        let m = try Sampler.run(config, counter: counter) { k in
            sink = coro.roundTrips(k, from: sink)
        }
        withExtendedLifetime(sink) {}
        return m
    }

    // MARK: ucontext

    /// The two contexts and a stop flag, in allocated memory the coroutine reads.
    struct UcontextPair {
        var main: UnsafeMutableRawPointer
        var coro: UnsafeMutableRawPointer
        var stop: Bool
    }

    /// A ucontext coroutine that switches back to main until told to stop, then returns the
    /// stack to main for good. Owns its stack and contexts.
    final class UcontextPingPong {
        let pair: UnsafeMutablePointer<UcontextPair>
        let stackBase: UnsafeMutableRawPointer
        let stackSize = 64 * 1024

        init() throws {
            var top: UnsafeMutableRawPointer? = nil
            guard let base = sb_coro_stack_alloc(stackSize, &top) else {
                throw SwitchBenchError.caseFailed("mmap of a ucontext stack failed: \(errnoText(errno))")
            }
            // Locals until nothing can fail: a class init that throws after its stored properties
            // are set runs deinit, which would switch into a context that was never made.
            let size = sb_uctx_size()
            let pair = UnsafeMutablePointer<UcontextPair>.allocate(capacity: 1)
            pair.initialize(to: UcontextPair(main: .allocate(byteCount: size, alignment: 64),
                                             coro: .allocate(byteCount: size, alignment: 64), stop: false))
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let r = sb_uctx_make(pair.pointee.coro, base + page, stackSize, { raw in
                let p = raw!.assumingMemoryBound(to: UcontextPair.self)
                while !p.pointee.stop { _ = sb_uctx_swap(p.pointee.coro, p.pointee.main) }
                _ = sb_uctx_swap(p.pointee.coro, p.pointee.main)
                abort()   // never resumed after stopping
            }, UnsafeMutableRawPointer(pair))
            if r != 0 {
                _ = sb_coro_stack_free(base, stackSize)
                pair.pointee.main.deallocate()
                pair.pointee.coro.deallocate()
                pair.deallocate()
                throw SwitchBenchError.caseFailed("makecontext failed: \(errnoText(-r))")
            }
            self.stackBase = base
            self.pair = pair
        }

        @inline(__always) func roundTrip() { _ = sb_uctx_swap(pair.pointee.main, pair.pointee.coro) }

        deinit {
            pair.pointee.stop = true
            roundTrip()   // the coroutine leaves its loop and switches back for the last time
            _ = sb_coro_stack_free(stackBase, stackSize)
            pair.pointee.main.deallocate()
            pair.pointee.coro.deallocate()
            pair.deallocate()
        }
    }

    static func measureUcontext(_ config: SamplerConfig, counter: SwitchCounter) throws -> (Measured, Result<Double, ReasonError>) {
        let pp = try UcontextPingPong()
        pp.roundTrip()
        let m = try Sampler.run(config, counter: counter) { k in
            for _ in 0..<k { pp.roundTrip() }
        }
        // Show the hidden system call: count rt_sigprocmask entries over a fixed number of switches.
        let count: Result<Double, ReasonError>
        let id = sb_tracepoint_id("syscalls/sys_enter_rt_sigprocmask")
        if id < 0 {
            count = .failure(ReasonError("""
                tracefs event syscalls/sys_enter_rt_sigprocmask not readable (\(errnoText(Int32(-id)))): tracefs is not mounted or the kernel has no syscall \
                tracepoints
                """))
        } else {
            do {
                let c = try PerfCounter(PerfEvent(name: "syscalls:sys_enter_rt_sigprocmask", type: SB_PERF_TYPE_TRACEPOINT, config: UInt64(id)), inherit: false)
                if c.excludesKernel { throw ReasonError("the tracepoint opened for user mode only (perf_event_paranoid), where it never fires") }
                let trips = 100_000
                c.reset(); c.enable()
                for _ in 0..<trips { pp.roundTrip() }
                c.disable()
                if let v = c.read() { count = .success(v.value / Double(2 * trips)) }
                else { count = .failure(ReasonError("reading the tracepoint counter failed")) }
            } catch {
                count = .failure(ReasonError("the tracepoint counter did not open: \(error)"))
            }
        }
        return (m, count)
    }

    struct ReasonError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    // MARK: Swift tasks

    /// Swift task hand-offs stamped one at a time (`swift-task` only): 20 000, 2 000 with --quick.
    static func stampTarget(_ o: RunOptions) -> Int { o.quick ? 2_000 : 20_000 }

    /// `stamping`: hand-offs to stamp one at a time (continuation ping-pong only), in chunks between
    /// the timed samples (`Sampler.run`'s `between`): the waker stamps right before it resumes the
    /// other task's continuation, the woken task right after its own suspension returns.
    static func measureOwnExecutor(_ config: SamplerConfig, counter: SwitchCounter, yield: Bool,
                                   stamping: Int = 0) throws -> (Measured, Double, [Double]) {
        let executor = SingleThreadExecutor()
        let pp = TaskPingPong(stampCapacity: yield ? 0 : stamping)
        defer { pp.deallocate() }
        for me in 0..<2 {
            Task(executorPreference: executor) { yield ? await pp.yieldPlayer(me) : await pp.player(me) }
        }
        executor.runUntilIdle()   // both tasks park
        let jobs0 = executor.jobsRun
        var trips = 0, stampJobs = 0
        let chunk = max(1, (pp.stamps.capacity + config.samples - 1) / config.samples)
        let between: (() throws -> Void)? = pp.stamps.capacity == 0 ? nil : {
            let left = pp.stamps.capacity - Int(pp.stamps.hop.pointee)
            guard left > 0 else { return }
            let j0 = executor.jobsRun
            pp.state.pointee.stamping = true
            pp.start(handOffs: min(chunk, left), both: false)
            executor.runUntilIdle()
            pp.state.pointee.stamping = false
            stampJobs += executor.jobsRun - j0
        }
        let m = try Sampler.run(config, counter: counter, between: between) { k in
            pp.start(handOffs: 2 * k, both: yield)
            executor.runUntilIdle()
            trips &+= k
        }
        let jobsPerSwitch = Double(executor.jobsRun - jobs0 - stampJobs) / Double(2 * trips)
        pp.stop()
        executor.runUntilIdle()   // both tasks return
        let clock = StampClock.shared
        let n = Int(pp.stamps.hop.pointee)
        let oneWay = (0..<n).compactMap { i in
            pp.stamps.recv[i] == 0 ? nil : clock.ns(Int64(bitPattern: pp.stamps.recv[i] &- pp.stamps.sent[i]))
        }
        return (m, jobsPerSwitch, oneWay)
    }

    func runGlobal(_ spec: CaseSpec, config: SamplerConfig) throws -> [Record] {
        var pp = TaskPingPong()
        let ready = DispatchSemaphore(value: 0)
        pp.ready = ready
        defer { pp.deallocate() }
        let players = pp
        for me in 0..<2 { Task.detached { await players.player(me) } }
        ready.wait(); ready.wait()   // both tasks parked
        var trips = 0
        let before = processContextSwitches()
        // The sampling thread waits on a semaphore while pool threads run: not checked for preemption.
        let m = try Sampler.run(config, check: .none) { k in
            pp.start(handOffs: 2 * k, both: false)
            ready.wait()
            trips &+= k
        }
        let after = processContextSwitches()
        pp.stop()
        ready.wait(); ready.wait()   // both tasks returned
        let spo = Double(after - before) / Double(trips)
        var rows = Self.records(harness: id, spec: spec, placement: spec.placement.rawValue, cpus: [],
                                measured: m, switchesPerOp: spo, source: "/proc/self/task/*/status ctxt_switches (every thread)",
                                notes: ["default global executor: tasks resume on its worker threads, the sampling thread waits on a semaphore once per batch",
                                        "unpinned: pool threads inherit the affinity of the thread that creates them",
                                        """
                                        kernel switches allowed (a worker that runs out of jobs parks and is woken by the next enqueue); expected ≤ 2 per \
                                        round trip
                                        """],
                                cpusSeen: "")
        for i in rows.indices {
            rows[i].expectedSwitchesPerOp = 2
            if spo > 2.2 { rows[i].invalidate(String(format: "kernel counted %.2f switches per round trip, more than one park/wake per hand-off (2)", spo)) }
        }
        return rows
    }
}

/// Voluntary + involuntary context switches of every thread of this process, from /proc.
func processContextSwitches() -> UInt64 {
    SwitchCounter.procCount(["self"])
}

/// Two Swift tasks that hand control to each other through continuations. State in allocated
/// memory (no class properties, no locks); every access happens on whichever thread runs the
/// task that holds the turn, and each hand-off (continuation resume → enqueue) orders them.
struct TaskPingPong: @unchecked Sendable {
    struct State {
        var left = 0
        var stop = false
        var both = false
        /// The hand-offs now running are stamped (`stamps`): never inside a timed sample.
        var stamping = false
    }
    let slots: UnsafeMutablePointer<UnsafeContinuation<Void, Never>?>
    /// Per task, for the global executor only (tasks on several threads): 0 running, 1 parked,
    /// 2 woken before it parked. On one thread a task always parks before the other wakes it.
    let parkState: UnsafeMutablePointer<UInt32>
    let state: UnsafeMutablePointer<State>
    /// Global-executor variant: signalled when a task first parks, when a batch ends and when a task returns.
    var ready: DispatchSemaphore? = nil
    /// Per hand-off stamps (own executor only), written while `State.stamping` is set.
    let stamps: TokenRingHarness.Stamps

    init(stampCapacity: Int = 0) {
        slots = .allocate(capacity: 2)
        slots.initialize(repeating: nil, count: 2)
        parkState = .allocate(capacity: 2)
        parkState.initialize(repeating: 0, count: 2)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 1 + 2 * stampCapacity)
        words.initialize(repeating: 0, count: 1 + 2 * stampCapacity)
        stamps = TokenRingHarness.Stamps(hop: words, sent: words + 1, recv: words + 1 + stampCapacity,
                                         capacity: stampCapacity, tsc: StampClock.shared.source == .tsc)
    }

    func deallocate() {
        slots.deallocate()
        parkState.deallocate()
        state.deallocate()
        stamps.hop.deallocate()
    }

    /// From outside the tasks: arm `handOffs` hand-offs and wake task 0 (and task 1 when `both`).
    func start(handOffs: Int, both: Bool) {
        state.pointee.left = handOffs
        wake(0)
        if both { wake(1) }
    }

    func stop() {
        state.pointee.stop = true
        wake(0)
        wake(1)
    }

    @inline(__always) func wake(_ who: Int) {
        if ready != nil {
            // Another thread may still be on its way to park: leave a pending wake-up then.
            while true {
                if sb_cas_u32(parkState + who, 1, 0) != 0 { break }
                if sb_cas_u32(parkState + who, 0, 2) != 0 { return }
            }
        }
        let c = slots[who]!
        slots[who] = nil
        c.resume()
    }

    @inline(__always) func park(_ me: Int, signal: Bool) async {
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            if ready != nil {
                slots[me] = c
                if sb_cas_u32(parkState + me, 0, 1) == 0 {   // woken already
                    slots[me] = nil
                    sb_store_release(parkState + me, 0)
                    c.resume()
                    return
                }
                if signal { ready?.signal() }
            } else {
                slots[me] = c
            }
        }
    }

    /// Continuation ping-pong: while hand-offs are left, wake the other task and park.
    func player(_ me: Int) async {
        await park(me, signal: true)
        while !state.pointee.stop {
            if state.pointee.left > 0 {
                state.pointee.left -= 1
                if state.pointee.stamping { stamps.sending() }
                wake(1 - me)
                await park(me, signal: false)
            } else {
                await park(me, signal: true)   // the batch is over (the other task is parked already)
            }
            if state.pointee.stamping { stamps.receivedOnce() }
        }
        ready?.signal()
    }

    /// Task.yield alternation: both tasks runnable, each yield puts the running one behind the other.
    func yieldPlayer(_ me: Int) async {
        await park(me, signal: true)
        while !state.pointee.stop {
            if state.pointee.left > 0 {
                state.pointee.left -= 1
                await Task.yield()
            } else {
                await park(me, signal: true)
            }
        }
        ready?.signal()
    }
}
