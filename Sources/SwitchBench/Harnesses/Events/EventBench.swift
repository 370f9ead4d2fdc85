import CSwitchBench
import Glibc
import Foundation

/// One events case. `run` reads as its steps: set up (memory, eventfds, the burst table: `Setup`), start
/// the tasks (`Tasks`), the timed loop (`drive`), tear down, and the record (`record`).
struct EventBench {
    let mechanism: String
    let n: Int
    let k: Int
    /// The CPU of same-cpu, -1 unpinned.
    let cpu: Int

    /// The asm and swift-task kinds serve every task from one event-loop thread; thread and process
    /// block one task per request eventfd.
    var eventLoop: Bool { mechanism == "asm" || mechanism == "swift-task" }

    func run(_ config: SamplerConfig) throws -> (Measured, String) {
        // 1. Set-up: everything allocated before any task starts (a forked child may not allocate).
        let setup = Setup(n: n, k: k)
        defer { setup.release() }
        try setup.open(eventLoop: eventLoop, cpu: cpu)

        // 2. The tasks: a thread or a forked process per task, or the one event-loop thread.
        let tasks = Tasks(mechanism: mechanism, eventLoop: eventLoop, setup: setup)
        defer { tasks.stop() }
        try tasks.start(cpu: cpu)
        // A forked task killed from outside would leave the driver blocked on a reply forever: a watcher
        // wakes it (stopped before tasks.stop() reaps the tasks: defers run last-first).
        let watch = mechanism == "process" ? ChildWatch(replyFD: setup.replyFD) : nil
        watch?.start()
        defer { watch?.stop() }
        try tasks.waitUntilStarted()

        // 3. The timed loop, the kernel's switch count around it.
        let (measured, switches, driven) = try drive(config, setup, tasks)

        // 4. Teardown: every task stopped and reaped (the defers then free what set-up made).
        tasks.stop()

        // 5. The record's count and note.
        return record(measured, switches: switches, driven: driven)
    }

    /// What a case allocates before any task starts: the shared memory (the burst counter, the started
    /// counter, the loop's thread id, a word and a thread id per task), the reply eventfd, a request
    /// eventfd and the arguments (`Worker`) per task, and the burst table. `init` allocates the memory,
    /// `open` makes the rest and can fail part-way; `release` frees whatever was made.
    final class Setup {
        let n: Int
        let k: Int
        /// The bursts: K distinct random tasks each, fixed seed, cycled.
        static let tableBursts = 4096
        let sharedBytes: Int
        private(set) var shared: UnsafeMutableRawPointer? = nil
        private(set) var replyFD: Int32 = -1
        /// A request eventfd per task: the driver writes it, the task reads it.
        let fds: UnsafeMutableBufferPointer<Int32>
        let workers: UnsafeMutablePointer<Worker>
        let table: UnsafeMutableBufferPointer<Int32>

        init(n: Int, k: Int) {
            (self.n, self.k) = (n, k)
            sharedBytes = (128 + 12 * n + ManyTasks.pageSize - 1) / ManyTasks.pageSize * ManyTasks.pageSize
            fds = .allocate(capacity: n)
            fds.initialize(repeating: -1)
            workers = .allocate(capacity: n)
            table = .allocate(capacity: Self.tableBursts * k)
        }

        var remaining: UnsafeMutablePointer<UInt32> { shared!.assumingMemoryBound(to: UInt32.self) }
        var started: UnsafeMutablePointer<UInt32> { (shared! + 64).assumingMemoryBound(to: UInt32.self) }
        var loopTid: UnsafeMutablePointer<Int32> { (shared! + 96).assumingMemoryBound(to: Int32.self) }
        var words: UnsafeMutablePointer<UInt64> { (shared! + 128).assumingMemoryBound(to: UInt64.self) }
        var tids: UnsafeMutablePointer<Int32> { (shared! + 128 + 8 * n).assumingMemoryBound(to: Int32.self) }

        func open(eventLoop: Bool, cpu: Int) throws {
            guard let s = mmap(nil, sharedBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), s != MAP_FAILED else {
                throw SwitchBenchError.caseFailed("mmap of shared memory failed: \(errnoText(errno))")
            }
            shared = s
            replyFD = sb_eventfd(0)
            guard replyFD >= 0 else { throw SwitchBenchError.caseFailed("eventfd() failed: \(errnoText(-replyFD))") }
            let (remaining, started, loopTid, words, tids) = (self.remaining, self.started, self.loopTid, self.words, self.tids)
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
            var rng = SplitMix64(seed: 0x5eed_0000 &+ UInt64(n) &* 31 &+ UInt64(k))
            for b in 0..<Self.tableBursts {
                var picked: [Int32] = []
                while picked.count < k {
                    let v = Int32(rng.next() % UInt64(n))
                    if !picked.contains(v) { picked.append(v) }
                }
                for (j, v) in picked.enumerated() { table[b * k + j] = v }
            }
        }

        func release() {
            table.deallocate()
            workers.deallocate()
            for fd in fds where fd >= 0 { close(fd) }
            fds.deallocate()
            if replyFD >= 0 { close(replyFD) }
            if let shared { munmap(shared, sharedBytes) }
        }
    }

    /// The N tasks (threads or forked processes, each blocked reading its request eventfd) or the one
    /// event-loop thread: starting them, waiting until they run, what counts their switches, stopping them.
    final class Tasks {
        let mechanism: String
        let eventLoop: Bool
        let setup: Setup
        var pids: [pid_t] = []
        var threads: [pthread_t] = []
        var loop: EventLoop? = nil
        private var stopped = false

        init(mechanism: String, eventLoop: Bool, setup: Setup) {
            (self.mechanism, self.eventLoop, self.setup) = (mechanism, eventLoop, setup)
        }

        func start(cpu: Int) throws {
            let (n, workers, fds, replyFD) = (setup.n, setup.workers, setup.fds, setup.replyFD)
            switch mechanism {
            case "thread":
                threads.reserveCapacity(n)
                for i in 0..<n {
                    var tid = pthread_t()
                    let r = pthread_create(&tid, nil, EventBench.blockingEntry, UnsafeMutableRawPointer(workers + i))
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
                        EventBench.blockingLoop(w)
                    })
                }
            default:
                let l = EventLoop(swiftTasks: mechanism == "swift-task", workers: workers, n: n, cpu: Int32(cpu))
                loop = l
                try l.start()
            }
        }

        func waitUntilStarted() throws {
            let expected = eventLoop ? 1 : setup.n
            guard ManyTasks.waitForCount(setup.started, expected) else {
                throw SwitchBenchError.caseFailed("only \(sb_load_acquire(setup.started)) of \(expected) tasks started within 60 s")
            }
            if let failure = loop?.failure { throw SwitchBenchError.caseFailed("the event loop could not start: \(failure)") }
        }

        /// The /proc status files of exactly the tasks taking part: the calling thread (the driver), and
        /// the N tasks or the loop thread (other threads of this process, such as a test runner's, are not counted).
        func statusPaths() -> [String] {
            var paths = ["/proc/self/task/\(sb_gettid())/status"]
            switch mechanism {
            case "thread": paths += (0..<setup.n).map { "/proc/self/task/\(setup.tids[$0])/status" }
            case "process": paths += pids.map { "/proc/\($0)/status" }
            default: paths.append("/proc/self/task/\(setup.loopTid.pointee)/status")
            }
            return paths
        }

        /// Each task's CPU clock, or the loop thread's for the event-loop kinds (`ids` holds one).
        func cpuClocks(into ids: UnsafeMutableBufferPointer<clockid_t>) throws {
            for i in 0..<ids.count {
                var id = clockid_t()
                let r: Int32
                switch mechanism {
                case "thread": r = pthread_getcpuclockid(threads[i], &id)
                case "process": r = clock_getcpuclockid(pids[i], &id)
                default: r = pthread_getcpuclockid(loop!.thread, &id)
                }
                guard r == 0 else { throw SwitchBenchError.caseFailed("no CPU clock for task \(i): \(errnoText(r))") }
                ids[i] = id
            }
        }

        /// The stop value on every request eventfd (blocking tasks return; the loop is told separately),
        /// then every task reaped. Once; later calls do nothing.
        func stop() {
            guard !stopped else { return }
            stopped = true
            if loop == nil {
                var v = EventBench.stopValue
                for i in 0..<setup.n where setup.fds[i] >= 0 { _ = sb_sys_write(setup.fds[i], &v, 8) }
            }
            loop?.stop()
            ManyTasks.reap(&pids, &threads)
            loop?.join()
        }
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

    /// Stolen time of a same-cpu sample (docs/busy-machines.md): the driver and every task are pinned
    /// to one CPU and a readied task is always runnable while the driver waits, so that CPU never
    /// idles in a sample, and stolen = wall − (the driver's CPU time + the CPU time of every task it
    /// readied in the sample: their own clocks, read just outside the timed region while they are
    /// blocked, so exact). Only the tasks of the sample's bursts are read (the burst table says which),
    /// never all N; the event loop's kinds read the loop thread's clock. Per-task clocks, not this
    /// process's: another thread of the process on this CPU is time the row's tasks did not run.
    final class ReadiedClocks {
        let n: Int
        let k: Int
        let eventLoop: Bool
        let clocks: UnsafeMutableBufferPointer<clockid_t>
        /// Which tasks a sample readies: each distinct task once (a mark per task, a new generation per sample).
        let mark: UnsafeMutableBufferPointer<UInt32>
        let readied: UnsafeMutableBufferPointer<Int32>
        var generation: UInt32 = 0

        init(n: Int, k: Int, eventLoop: Bool) {
            (self.n, self.k, self.eventLoop) = (n, k, eventLoop)
            clocks = .allocate(capacity: eventLoop ? 1 : n)
            mark = .allocate(capacity: n)
            mark.initialize(repeating: 0)
            readied = .allocate(capacity: n)
        }

        func release() {
            readied.deallocate()
            mark.deallocate()
            clocks.deallocate()
        }

        /// How many clocks the sample of `bursts` bursts from table position `position` must read
        /// (`readied` lists the tasks).
        func pick(_ table: UnsafeMutableBufferPointer<Int32>, position: Int, bursts: Int) -> Int {
            if eventLoop { return 1 }
            var count = 0
            generation &+= 1
            if generation == 0 { mark.update(repeating: 0); generation = 1 }
            var p = position
            for _ in 0..<bursts where count < n {
                for j in 0..<k {
                    let t = Int(table[p * k + j])
                    if mark[t] != generation { mark[t] = generation; readied[count] = Int32(t); count += 1 }
                }
                p = p + 1 == Setup.tableBursts ? 0 : p + 1
            }
            return count
        }

        /// The CPU nanoseconds of the first `count` picked tasks.
        func cpu(_ count: Int) -> UInt64 {
            var sum: UInt64 = 0
            var ts = timespec()
            for j in 0..<count where clock_gettime(clocks[eventLoop ? 0 : Int(readied[j])], &ts) == 0 {
                sum &+= UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
            }
            return sum
        }
    }

    /// The timed loop. This thread is the driver, placed and scheduled like the tasks (restored
    /// afterwards): per burst it sets the counter to K, writes a request to each of the burst's K tasks
    /// and reads the one reply the last of them writes, through `Sampler.runTimed`. Nothing between the
    /// two clock reads allocates. Returns the samples, the kernel's switches over every burst driven
    /// (calibration and warm-up included) and how many bursts that was.
    func drive(_ config: SamplerConfig, _ setup: Setup, _ tasks: Tasks) throws -> (Measured, UInt64, Int) {
        let statusPaths = tasks.statusPaths()
        func switchCount() -> UInt64 {
            statusPaths.reduce(0) { $0 + (readProcFile($1).map(SwitchCounter.parseStatus) ?? 0) }
        }
        let sameCPU = cpu >= 0
        let clocks = ReadiedClocks(n: n, k: k, eventLoop: eventLoop)
        defer { clocks.release() }
        if sameCPU { try tasks.cpuClocks(into: clocks.clocks) }

        let (k, fds, table, replyFD, remaining) = (self.k, setup.fds, setup.table, setup.replyFD, setup.remaining)
        let tableBursts = Setup.tableBursts
        var position = 0
        var driven = 0
        var switchesBefore: UInt64 = 0
        let measured = try Affinity.pinned(cpu >= 0 ? [cpu] : []) { () throws -> Measured in
            _ = sb_set_sched_batch(1)
            defer { _ = sb_set_sched_batch(0) }
            switchesBefore = switchCount()
            var m = try Sampler.runTimed(config) { bursts in
                let count = sameCPU ? clocks.pick(table, position: position, bursts: bursts) : 0
                let tasks0 = sameCPU ? clocks.cpu(count) : 0
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
                        if got == 8, let dead = TaskGroup.deadChild(in: &tasks.pids) { throw dead }
                        throw SwitchBenchError.caseFailed("""
                            reading the reply failed: \(got == 0 ? "every task is gone" : got == 8 ? "a task ended" : errnoText(Int32(-got)))
                            """)
                    }
                }
                let t1 = monotonicNanoseconds()
                let wall = t1 - t0
                guard sameCPU else { return TimedSample(ns: wall) }
                let c1 = Sampler.threadCPUNanoseconds()
                let used = (c1 &- c0) &+ (clocks.cpu(count) &- tasks0)
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
        return (measured, switchesAfter >= switchesBefore ? switchesAfter - switchesBefore : 0, driven)
    }

    /// The row's kernel switch count and what it covers: over every burst driven (calibration and
    /// warm-up included: the count per burst is the same).
    func record(_ measured: Measured, switches: UInt64, driven: Int) -> (Measured, String) {
        var m = measured
        m.switches = switches
        m.totalOps = driven
        return (m, "/proc ctxt_switches of the driver and the " + (eventLoop ? "event-loop thread" : "\(n) tasks") + ", over every burst driven")
    }
}
