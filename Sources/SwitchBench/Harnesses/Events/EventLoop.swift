import CSwitchBench
import Glibc
import Foundation

/// One thread running an epoll loop over the N request eventfds, resuming the asm coroutine or the
/// Swift task of each ready pipe. A stop pipe (data = UInt64.max) ends it.
final class EventLoop: @unchecked Sendable {
    let swiftTasks: Bool
    let workers: UnsafeMutablePointer<EventBench.Worker>
    let n: Int
    let cpu: Int32
    var stopFDs: [Int32] = [-1, -1]
    var thread = pthread_t()
    var running = false
    /// Set by the loop thread when setting up failed (before it signals `started`).
    var failure: String? = nil

    init(swiftTasks: Bool, workers: UnsafeMutablePointer<EventBench.Worker>, n: Int, cpu: Int32) {
        self.swiftTasks = swiftTasks
        self.workers = workers
        self.n = n
        self.cpu = cpu
    }

    func start() throws {
        guard pipe(&stopFDs) == 0 else { throw SwitchBenchError.caseFailed("pipe() failed: \(errnoText(errno))") }
        thread = try TaskGroup.startThread(failure: "pthread_create of the event loop failed") { self.body() }
        running = true
    }

    func stop() {
        if stopFDs[1] >= 0 {
            var b: UInt8 = 1
            _ = sb_sys_write(stopFDs[1], &b, 1)
        }
    }

    func join() {
        if running { pthread_join(thread, nil); running = false }
        for fd in stopFDs where fd >= 0 { close(fd) }
        stopFDs = [-1, -1]
    }

    static let stopData = UInt64.max

    func body() {
        EventBench.begin(cpu)
        workers[0].tid.pointee = sb_gettid()
        let epfd = sb_epoll_create()
        guard epfd >= 0 else { fail("epoll_create1: \(errnoText(-epfd))"); return }
        defer { close(epfd) }
        for i in 0..<n {
            let r = sb_epoll_add(epfd, workers[i].requestFD, UInt64(i))
            if r != 0 { fail("epoll_ctl: \(errnoText(-r))"); return }
        }
        _ = sb_epoll_add(epfd, stopFDs[0], Self.stopData)
        if swiftTasks { runSwiftTasks(epfd) } else { runCoroutines(epfd) }
    }

    /// Records why the loop cannot run and lets the driver's wait end at once.
    func fail(_ why: String) {
        failure = why
        _ = sb_fetch_add(workers[0].started, 1)
    }

    /// Waits for ready eventfds and hands each index to `dispatch`; after each wake-up, `afterBatch`.
    func poll(_ epfd: Int32, dispatch: (Int) -> Void, afterBatch: () -> Void) {
        let ready = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
        defer { ready.deallocate() }
        while true {
            let c = sb_epoll_wait(epfd, ready, 64, -1)
            if c == -EINTR { continue }
            if c < 0 { failure = "epoll_wait: \(errnoText(-c))"; return }
            for j in 0..<Int(c) {
                if ready[j] == Self.stopData { afterBatch(); return }
                dispatch(Int(ready[j]))
            }
            afterBatch()
        }
    }

    func runCoroutines(_ epfd: Int32) {
        var coros: [Coroutine] = []
        coros.reserveCapacity(n)
        for i in 0..<n {
            let w = workers + i
            guard let c = try? Coroutine({ y, _ in
                var v: UInt64 = 0
                while y.yield(0) != nil {
                    if sb_sys_read(w.pointee.requestFD, &v, 8) == 8 { EventBench.serve(w) }
                }
                return 0
            }) else { fail("coroutine \(i) could not be made (mmap of its stack failed)"); return }
            c.resume(0)   // parked at its first yield
            coros.append(c)
        }
        _ = sb_fetch_add(workers[0].started, 1)
        coros.withUnsafeBufferPointer { cs in
            poll(epfd, dispatch: { cs[$0].resume(0) }, afterBatch: {})
        }
    }

    func runSwiftTasks(_ epfd: Int32) {
        let executor = SingleThreadExecutor()
        let waiters = ReadyWaiters(n)
        defer { waiters.deallocate() }
        let shared = WorkerTable(workers)
        var made = 0
        while made < n {
            let chunk = min(2048, n - made)
            for i in made..<(made + chunk) {
                Task(executorPreference: executor) {
                    let w = shared.workers + i
                    var v: UInt64 = 0
                    while await waiters.wait(i) {
                        if sb_sys_read(w.pointee.requestFD, &v, 8) == 8 { EventBench.serve(w) }
                    }
                }
            }
            executor.runUntilIdle()
            made += chunk
        }
        _ = sb_fetch_add(workers[0].started, 1)
        poll(epfd, dispatch: { waiters.resume($0, true) }, afterBatch: { executor.runUntilIdle() })
        var done = 0
        while done < n {
            let chunk = min(2048, n - done)
            for i in done..<(done + chunk) { waiters.resume(i, false) }
            executor.runUntilIdle()
            done += chunk
        }
    }
}

struct WorkerTable: @unchecked Sendable {
    let workers: UnsafeMutablePointer<EventBench.Worker>
    init(_ w: UnsafeMutablePointer<EventBench.Worker>) { workers = w }
}

/// A continuation slot per task: wait(i) parks task i until its eventfd is ready (true) or the loop ends (false).
final class ReadyWaiters: @unchecked Sendable {
    let slots: UnsafeMutablePointer<UnsafeContinuation<Bool, Never>?>
    let count: Int

    init(_ n: Int) {
        count = n
        slots = .allocate(capacity: n)
        slots.initialize(repeating: nil, count: n)
    }

    func wait(_ i: Int) async -> Bool {
        await withUnsafeContinuation { slots[i] = $0 }
    }

    func resume(_ i: Int, _ value: Bool) {
        if let c = slots[i] {
            slots[i] = nil
            c.resume(returning: value)
        }
    }

    func deallocate() { slots.deallocate() }
}
