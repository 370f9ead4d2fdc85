import Glibc

/// A single-threaded executor of our own for Swift tasks: jobs run on the thread that created it,
/// one after another, when that thread calls `runUntilIdle()`. Tasks started with
/// `Task(executorPreference: executor)` run their nonisolated code here, so two tasks handing a
/// continuation back and forth switch on this one thread with no kernel involvement.
///
/// Jobs enqueued on the owner thread go into a ring buffer without a lock (the hot path); jobs
/// enqueued from any other thread go into a mutex-protected inbox that `runUntilIdle` drains.
/// State lives in memory allocated here, not in class properties, so no exclusivity checks run.
public final class SingleThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    struct State {
        var head = 0
        var tail = 0
        var jobsRun = 0
        var inboxCount = 0
    }
    static let capacity = 1 << 12
    let ring: UnsafeMutablePointer<UnownedJob>
    let inbox: UnsafeMutablePointer<UnownedJob>
    let state: UnsafeMutablePointer<State>
    let lock: UnsafeMutablePointer<pthread_mutex_t>
    let owner: pthread_t

    public init() {
        ring = .allocate(capacity: Self.capacity)
        inbox = .allocate(capacity: Self.capacity)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        owner = pthread_self()
    }

    deinit {
        precondition(state.pointee.head == state.pointee.tail && state.pointee.inboxCount == 0,
                     "SingleThreadExecutor destroyed with jobs still queued")
        pthread_mutex_destroy(lock)
        lock.deallocate()
        state.deallocate()
        inbox.deallocate()
        ring.deallocate()
    }

    /// Jobs run so far: each is one switch into a task (the proof that tasks ran here).
    public var jobsRun: Int { state.pointee.jobsRun }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if pthread_equal(pthread_self(), owner) != 0 {
            let s = state
            precondition(s.pointee.tail - s.pointee.head < Self.capacity, "SingleThreadExecutor queue overflow")
            ring[s.pointee.tail & (Self.capacity - 1)] = unowned
            s.pointee.tail &+= 1
        } else {
            pthread_mutex_lock(lock)
            precondition(state.pointee.inboxCount < Self.capacity, "SingleThreadExecutor inbox overflow")
            inbox[state.pointee.inboxCount] = unowned
            state.pointee.inboxCount += 1
            pthread_mutex_unlock(lock)
        }
    }

    /// Runs queued jobs on the calling thread (which must be the creating thread) until none is left.
    /// Returns how many ran.
    @discardableResult
    public func runUntilIdle() -> Int {
        precondition(pthread_equal(pthread_self(), owner) != 0, "runUntilIdle must run on the executor's thread")
        let s = state
        var ran = 0
        while true {
            if s.pointee.head != s.pointee.tail {
                let job = ring[s.pointee.head & (Self.capacity - 1)]
                s.pointee.head &+= 1
                s.pointee.jobsRun &+= 1
                ran += 1
                job.runSynchronously(on: asUnownedTaskExecutor())
                continue
            }
            // The ring is empty: move whatever other threads enqueued, or stop.
            pthread_mutex_lock(lock)
            let n = s.pointee.inboxCount
            for i in 0..<n {
                ring[s.pointee.tail & (Self.capacity - 1)] = inbox[i]
                s.pointee.tail &+= 1
            }
            s.pointee.inboxCount = 0
            pthread_mutex_unlock(lock)
            if n == 0 { return ran }
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
