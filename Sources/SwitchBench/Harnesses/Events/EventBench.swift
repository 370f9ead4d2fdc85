import CSwitchBench
import Glibc
import Foundation

/// One events case: builds the N tasks, drives bursts through the Sampler, tears everything down.
struct EventBench {
    let mechanism: String
    let n: Int
    let k: Int
    /// The CPU of same-cpu, -1 unpinned.
    let cpu: Int

    /// Per-task arguments, in memory allocated before any task starts (a forked child may not allocate).
    struct Worker {
        var requestFD: Int32
        var replyFD: Int32
        var remaining: UnsafeMutablePointer<UInt32>
        var word: UnsafeMutablePointer<UInt64>
        var started: UnsafeMutablePointer<UInt32>
        /// Where the task writes its kernel thread id (its switches are counted there).
        var tid: UnsafeMutablePointer<Int32>
        var cpu: Int32
    }

    /// Written to a task's eventfd to end it (a request adds 1; this is far above any pending count).
    static let stopValue: UInt64 = 1 << 40

    /// The work of one event, then the reply when this task is the burst's last.
    @inline(__always)
    static func serve(_ w: UnsafeMutablePointer<Worker>) {
        var x = w.pointee.word.pointee | 1
        for _ in 0..<EventsHarness.workRounds {
            x ^= x >> 29
            x = x &* 0xbf58476d1ce4e5b9
        }
        w.pointee.word.pointee = x
        if sb_fetch_add(w.pointee.remaining, UInt32.max) == 1 {
            var one: UInt64 = 1
            _ = sb_sys_write(w.pointee.replyFD, &one, 8)
        }
    }

    static func begin(_ cpu: Int32) {
        if cpu >= 0 {
            var c = cpu
            _ = sb_set_affinity(&c, 1)
        }
        _ = sb_set_sched_batch(1)
    }

    /// Watches this process's children while the driver may be blocked on a reply: when one has
    /// ended (tasks end only when stopped, so it was killed from outside), it adds `endedMark` to the
    /// reply eventfd, so the driver's read returns and it names the task. Checks every 0.2 s, off the
    /// timed loop (whose only extra work is one comparison of the value it read).
    final class ChildWatch: @unchecked Sendable {
        static let endedMark: UInt64 = 1 << 40
        let replyFD: Int32
        /// [stop, finished]
        let words = UnsafeMutablePointer<UInt32>.allocate(capacity: 2)

        init(replyFD: Int32) {
            self.replyFD = replyFD
            words.initialize(repeating: 0, count: 2)
        }
        deinit { words.deallocate() }

        func start() {
            let t = Thread { [self] in
                defer { sb_store_release(words + 1, 1); _ = sb_futex_wake(words + 1, 1, 1) }
                while sb_load_acquire(words) == 0 {
                    if sb_ended_child() > 0 {
                        var mark = Self.endedMark
                        _ = sb_sys_write(replyFD, &mark, 8)
                        return
                    }
                    _ = sb_futex_wait(words, 0, 200_000_000, 1)
                }
            }
            t.start()
        }

        func stop() {
            sb_store_release(words, 1)
            _ = sb_futex_wake(words, 1, 1)
            while sb_load_acquire(words + 1) == 0 { _ = sb_futex_wait(words + 1, 0, 100_000_000, 1) }
        }
    }

    /// A thread (or forked process) per task: block in read, serve, until end-of-file.
    static let blockingEntry: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
        let w = raw!.assumingMemoryBound(to: Worker.self)
        blockingLoop(w)
        return nil
    }

    static func blockingLoop(_ w: UnsafeMutablePointer<Worker>) {
        begin(w.pointee.cpu)
        w.pointee.tid.pointee = sb_gettid()
        _ = sb_fetch_add(w.pointee.started, 1)
        var v: UInt64 = 0
        while true {
            let r = sb_sys_read(w.pointee.requestFD, &v, 8)
            if r == 8 && v < stopValue { serve(w); continue }
            if r < 0 && errno == EINTR { continue }
            break
        }
    }

    func run(_ config: SamplerConfig) throws -> (Measured, String) {
        // Shared memory: the burst counter, the started counter, the loop's thread id, a word and a thread id per task.
        let bytes = (128 + 12 * n + ManyTasks.pageSize - 1) / ManyTasks.pageSize * ManyTasks.pageSize
        guard let shared = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), shared != MAP_FAILED else {
            throw SwitchBenchError.caseFailed("mmap of shared memory failed: \(errnoText(errno))")
        }
        defer { munmap(shared, bytes) }
        let remaining = shared.assumingMemoryBound(to: UInt32.self)
        let started = (shared + 64).assumingMemoryBound(to: UInt32.self)
        let loopTid = (shared + 96).assumingMemoryBound(to: Int32.self)
        let words = (shared + 128).assumingMemoryBound(to: UInt64.self)
        let tids = (shared + 128 + 8 * n).assumingMemoryBound(to: Int32.self)

        let replyFD = sb_eventfd(0)
        guard replyFD >= 0 else { throw SwitchBenchError.caseFailed("eventfd() failed: \(errnoText(-replyFD))") }
        defer { close(replyFD) }

        // A request eventfd per task: the driver writes it, the task reads it.
        let fds = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        fds.initialize(repeating: -1)
        defer {
            for fd in fds where fd >= 0 { close(fd) }
            fds.deallocate()
        }
        let workers = UnsafeMutablePointer<Worker>.allocate(capacity: n)
        defer { workers.deallocate() }
        let eventLoop = mechanism == "asm" || mechanism == "swift-task"
        for i in 0..<n {
            // The loop's reads never block (it reads only what epoll said is ready); the others' do.
            let fd = sb_eventfd(eventLoop ? 1 : 0)
            guard fd >= 0 else { throw SwitchBenchError.caseFailed("eventfd() failed after \(i): \(errnoText(-fd))") }
            fds[i] = fd
            words[i] = UInt64(i) &* 0x9e3779b97f4a7c15
            (workers + i).initialize(to: Worker(requestFD: fd, replyFD: replyFD, remaining: remaining,
                                                word: words + i, started: started, tid: eventLoop ? loopTid : tids + i,
                                                cpu: Int32(cpu)))
        }

        // The bursts: K distinct random tasks each, fixed seed, cycled.
        let tableBursts = 4096
        let table = UnsafeMutableBufferPointer<Int32>.allocate(capacity: tableBursts * k)
        defer { table.deallocate() }
        var rng = SplitMix64(seed: 0x5eed_0000 &+ UInt64(n) &* 31 &+ UInt64(k))
        for b in 0..<tableBursts {
            var picked: [Int32] = []
            while picked.count < k {
                let v = Int32(rng.next() % UInt64(n))
                if !picked.contains(v) { picked.append(v) }
            }
            for (j, v) in picked.enumerated() { table[b * k + j] = v }
        }

        var pids: [pid_t] = []
        var threads: [pthread_t] = []
        var loop: EventLoop? = nil
        var stopped = false
        func stop() {
            guard !stopped else { return }
            stopped = true
            // The stop value on every request eventfd: blocking tasks return; the loop is told separately.
            if loop == nil {
                var v = Self.stopValue
                for i in 0..<n where fds[i] >= 0 { _ = sb_sys_write(fds[i], &v, 8) }
            }
            loop?.stop()
            ManyTasks.reap(&pids, &threads)
            loop?.join()
        }
        defer { stop() }

        switch mechanism {
        case "thread":
            threads.reserveCapacity(n)
            for i in 0..<n {
                var tid = pthread_t()
                let r = pthread_create(&tid, nil, Self.blockingEntry, UnsafeMutableRawPointer(workers + i))
                if r != 0 { throw SwitchBenchError.caseFailed("pthread_create failed after \(i) threads: \(errnoText(r))") }
                threads.append(tid)
            }
        case "process":
            pids.reserveCapacity(n)
            for i in 0..<n {
                let w = workers + i
                let keepA = min(fds[i], replyFD), keepB = max(fds[i], replyFD)
                pids.append(try ManyTasks.forkChild(made: i) {
                    // Child: keep stdio, its request eventfd and the reply eventfd.
                    _ = sb_close_range(3, UInt32(keepA - 1))
                    _ = sb_close_range(UInt32(keepA + 1), UInt32(keepB - 1))
                    _ = sb_close_range(UInt32(keepB + 1), UInt32.max)
                    Self.blockingLoop(w)
                })
            }
        default:
            let l = EventLoop(swiftTasks: mechanism == "swift-task", workers: workers, n: n, cpu: Int32(cpu))
            loop = l
            try l.start()
        }
        // A forked task killed from outside would leave the driver blocked on a reply forever: a watcher
        // wakes it (stopped before stop() reaps the tasks: defers run last-first).
        let watch = mechanism == "process" ? ChildWatch(replyFD: replyFD) : nil
        watch?.start()
        defer { watch?.stop() }
        guard ManyTasks.waitForCount(started, eventLoop ? 1 : n) else {
            throw SwitchBenchError.caseFailed("only \(sb_load_acquire(started)) of \(eventLoop ? 1 : n) tasks started within 60 s")
        }
        if let failure = loop?.failure { throw SwitchBenchError.caseFailed("the event loop could not start: \(failure)") }

        // Kernel switches of exactly the tasks taking part: the driver, and the N tasks or the loop thread
        // (other threads of this process, such as a test runner's, are not counted).
        let driverTid = sb_gettid()
        var statusPaths = ["/proc/self/task/\(driverTid)/status"]
        switch mechanism {
        case "thread": statusPaths += (0..<n).map { "/proc/self/task/\(tids[$0])/status" }
        case "process": statusPaths += pids.map { "/proc/\($0)/status" }
        default: statusPaths.append("/proc/self/task/\(loopTid.pointee)/status")
        }
        func switchCount() -> UInt64 {
            statusPaths.reduce(0) { $0 + (readProcFile($1).map(SwitchCounter.parseStatus) ?? 0) }
        }

        // Stolen time of a same-cpu sample (docs/busy-machines.md): the driver and every task are pinned
        // to one CPU and a readied task is always runnable while the driver waits, so that CPU never
        // idles in a sample, and stolen = wall − (the driver's CPU time + the CPU time of every task it
        // readied in the sample: their own clocks, read just outside the timed region while they are
        // blocked, so exact). Only the tasks of the sample's bursts are read (the burst table says which),
        // never all N; the event loop's kinds read the loop thread's clock. Per-task clocks, not this
        // process's: another thread of the process on this CPU is time the row's tasks did not run.
        let sameCPU = cpu >= 0
        let clocks = UnsafeMutableBufferPointer<clockid_t>.allocate(capacity: eventLoop ? 1 : n)
        defer { clocks.deallocate() }
        if sameCPU {
            for i in 0..<clocks.count {
                var id = clockid_t()
                let r: Int32
                switch mechanism {
                case "thread": r = pthread_getcpuclockid(threads[i], &id)
                case "process": r = clock_getcpuclockid(pids[i], &id)
                default: r = pthread_getcpuclockid(loop!.thread, &id)
                }
                guard r == 0 else { throw SwitchBenchError.caseFailed("no CPU clock for task \(i): \(errnoText(r))") }
                clocks[i] = id
            }
        }
        // Which tasks a sample readies: each distinct task once (a mark per task, a new generation per sample).
        let mark = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: n)
        mark.initialize(repeating: 0)
        defer { mark.deallocate() }
        let readied = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        defer { readied.deallocate() }
        var generation: UInt32 = 0
        func cpuOf(_ count: Int) -> UInt64 {
            var sum: UInt64 = 0
            var ts = timespec()
            for j in 0..<count where clock_gettime(clocks[eventLoop ? 0 : Int(readied[j])], &ts) == 0 {
                sum &+= UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
            }
            return sum
        }

        // The driver: this thread, placed and scheduled like the tasks, restored afterwards.
        var position = 0
        var driven = 0
        var switchesBefore: UInt64 = 0
        let measured = try Affinity.pinned(cpu >= 0 ? [cpu] : []) { () throws -> Measured in
            _ = sb_set_sched_batch(1)
            defer { _ = sb_set_sched_batch(0) }
            switchesBefore = switchCount()
            var m = try Sampler.runTimed(config) { bursts in
                var count = 0
                if sameCPU {
                    if eventLoop {
                        count = 1
                    } else {
                        generation &+= 1
                        if generation == 0 { mark.update(repeating: 0); generation = 1 }
                        var p = position
                        for _ in 0..<bursts where count < n {
                            for j in 0..<k {
                                let t = Int(table[p * k + j])
                                if mark[t] != generation { mark[t] = generation; readied[count] = Int32(t); count += 1 }
                            }
                            p = p + 1 == tableBursts ? 0 : p + 1
                        }
                    }
                }
                let tasks0 = sameCPU ? cpuOf(count) : 0
                let c0 = sameCPU ? Sampler.threadCPUNanoseconds() : 0
                let t0 = monotonicNanoseconds()
                driven += bursts
                var one: UInt64 = 1
                var reply: UInt64 = 0
                for _ in 0..<bursts {
                    let base = position * k
                    position = position + 1 == tableBursts ? 0 : position + 1
                    sb_store_release(remaining, UInt32(k))
                    for j in 0..<k {
                        guard sb_sys_write(fds[Int(table[base + j])], &one, 8) == 8 else {
                            throw SwitchBenchError.caseFailed("writing a request failed: \(errnoText(errno))")
                        }
                    }
                    let got = sb_sys_read(replyFD, &reply, 8)
                    guard got == 8, reply < ChildWatch.endedMark else {
                        if got == 8, let dead = TaskGroup.deadChild(in: &pids) { throw dead }
                        throw SwitchBenchError.caseFailed("reading the reply failed: \(got == 0 ? "every task is gone" : got == 8 ? "a task ended" : errnoText(Int32(-got)))")
                    }
                }
                let t1 = monotonicNanoseconds()
                let wall = t1 - t0
                guard sameCPU else { return TimedSample(ns: wall) }
                let c1 = Sampler.threadCPUNanoseconds()
                let used = (c1 &- c0) &+ (cpuOf(count) &- tasks0)
                return TimedSample(ns: wall, stolenNs: wall > used ? wall - used : 0)
            }
            // Unpinned: tasks run on either CPU and the driver legitimately waits for a wake-up on the
            // other one, so wall − CPU is not stolen time; run_delay of N tasks would need a /proc read
            // per task. Not checked (samples_retaken and stolen_fraction empty).
            if !sameCPU { m.checked = false }
            return m
        }
        // A status file that could not be read counts 0, so the total can step back: never below zero.
        let switchesAfter = switchCount()
        let switches = switchesAfter >= switchesBefore ? switchesAfter - switchesBefore : 0
        stop()
        var m = measured
        // Over every burst driven (calibration and warm-up included: the count per burst is the same).
        m.switches = switches
        m.totalOps = driven
        return (m, "/proc ctxt_switches of the driver and the " + (eventLoop ? "event-loop thread" : "\(n) tasks") + ", over every burst driven")
    }
}
