import CSwitchBench
import Glibc

/// The state of one coroutine, in memory the Coroutine allocates. The saved stack pointers live
/// here and never in a class property or a global: a stack switch in the middle of one of Swift's
/// dynamic exclusivity accesses would confuse the runtime's access tracking.
/// The two stack-pointer fields come first (Coroutine.callerSlot / selfSlot rely on it).
struct CoroutineControl {
    /// Where the resumer's stack pointer is saved while the coroutine runs.
    var callerSP: UnsafeMutableRawPointer? = nil
    /// Where the coroutine's stack pointer is saved while it is suspended.
    var selfSP: UnsafeMutableRawPointer? = nil
    /// The value passed by resume / yield / return, in either direction.
    var value: Int = 0
    var state: CoroutineState = .created
    var cancelled = false
    /// The body's box, unretained (the Coroutine holds the reference).
    var body: UnsafeMutableRawPointer? = nil
}

enum CoroutineState: UInt8 { case created, suspended, running, finished }

/// What a coroutine body receives: the way to hand a value back and suspend.
public struct Yielder {
    let control: UnsafeMutablePointer<CoroutineControl>

    /// Hands `value` to the resumer and suspends until resumed again. Returns the value the next
    /// `resume` passes, or nil when the owner is destroying the coroutine: the body must return then.
    @inline(__always) @discardableResult
    public func yield(_ value: Int = 0) -> Int? {
        control.pointee.value = value
        control.pointee.state = .suspended
        sb_coro_switch(Coroutine.selfSlot(control), control.pointee.callerSP)
        return control.pointee.cancelled ? nil : control.pointee.value
    }
}

/// A stackful coroutine on an mmap'ed stack with a guard page below it, switched by
/// `sb_coro_switch` (assembly). create = init, `resume`/`Yielder.yield` switch, deinit destroys:
/// an unfinished body is resumed with `yield` returning nil so it can return and release what it
/// holds, then the stack is unmapped. Nothing is allocated after init, so resume/yield may be timed.
public final class Coroutine {
    public typealias Body = (Yielder, Int) -> Int

    final class Box {
        let body: Body
        init(_ body: @escaping Body) { self.body = body }
    }

    let control: UnsafeMutablePointer<CoroutineControl>
    let box: Box
    let stackBase: UnsafeMutableRawPointer
    /// Usable stack bytes (the guard page is extra).
    public let stackSize: Int
    /// The lowest usable address: the guard page ends here.
    public let stackLow: UnsafeMutableRawPointer
    public let stackTop: UnsafeMutableRawPointer

    public static let defaultStackSize = 256 * 1024

    /// Creates a coroutine; body(yielder, first) runs at the first resume(first), and its return
    /// value is what the last resume returns.
    public init(stackSize: Int = Coroutine.defaultStackSize, _ body: @escaping Body) throws {
        var top: UnsafeMutableRawPointer? = nil
        guard let base = sb_coro_stack_alloc(stackSize, &top), let top else {
            throw SwitchBenchError.caseFailed("mmap of a \(stackSize)-byte coroutine stack failed: \(errnoText(errno))")
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        self.stackBase = base
        self.stackTop = top
        self.stackLow = base + page
        self.stackSize = top - (base + page)
        self.box = Box(body)
        control = .allocate(capacity: 1)
        control.initialize(to: CoroutineControl())
        control.pointee.body = Unmanaged.passUnretained(box).toOpaque()
        control.pointee.selfSP = sb_coro_init_stack(top, { raw in
            Coroutine.runBody(raw!.assumingMemoryBound(to: CoroutineControl.self))
            Coroutine.finish(raw!.assumingMemoryBound(to: CoroutineControl.self))
        }, UnsafeMutableRawPointer(control))
    }

    deinit {
        if control.pointee.state == .suspended {
            control.pointee.cancelled = true
            var tries = 0
            while control.pointee.state != .finished {
                tries += 1
                precondition(tries < 1_000_000, "coroutine body kept yielding after yield returned nil")
                _ = resume(0)
            }
        }
        _ = sb_coro_stack_free(stackBase, stackTop - stackLow)
        control.deinitialize(count: 1)
        control.deallocate()
    }

    /// Switches to the coroutine, passing `value` (the first resume starts the body with it).
    /// Returns what the coroutine yields next, or its body's return value when it finishes.
    @inline(__always) @discardableResult
    public func resume(_ value: Int = 0) -> Int {
        let c = control
        precondition(c.pointee.state == .created || c.pointee.state == .suspended, "resume of a running or finished coroutine")
        c.pointee.value = value
        c.pointee.state = .running
        sb_coro_switch(Coroutine.callerSlot(c), c.pointee.selfSP)
        return c.pointee.value
    }

    public var isFinished: Bool { control.pointee.state == .finished }

    /// The addresses of the saved-stack-pointer fields: the first two words of the control block.
    @inline(__always)
    static func callerSlot(_ c: UnsafeMutablePointer<CoroutineControl>) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }
    @inline(__always)
    static func selfSlot(_ c: UnsafeMutablePointer<CoroutineControl>) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
        callerSlot(c) + 1
    }

    /// Runs the body on the coroutine stack and returns, so its references are released before
    /// the last switch (which never returns).
    @inline(never)
    static func runBody(_ c: UnsafeMutablePointer<CoroutineControl>) {
        let box = Unmanaged<Box>.fromOpaque(c.pointee.body!).takeUnretainedValue()
        let result = c.pointee.cancelled ? 0 : box.body(Yielder(control: c), c.pointee.value)
        c.pointee.value = result
    }

    @inline(never)
    static func finish(_ c: UnsafeMutablePointer<CoroutineControl>) -> Never {
        c.pointee.state = .finished
        sb_coro_switch(selfSlot(c), c.pointee.callerSP)
        fatalError("a finished coroutine was resumed")
    }
}

extension Coroutine {
    /// A coroutine that answers every resume(v) with v + 1 until it is destroyed: the partner of the
    /// `coroutine` and `create` harnesses. It lives in this file, next to resume and yield, so that
    /// they inline into the loop the same way in debug builds (no cross-file inlining without WMO)
    /// and in release builds.
    public static func echo(stackSize: Int = Coroutine.defaultStackSize) throws -> Coroutine {
        try Coroutine(stackSize: stackSize) { y, first in
            var v = first
            while let next = y.yield(v &+ 1) { v = next }
            return v
        }
    }

    /// k round trips (2k switches) with an echo coroutine, starting from value; returns the last value.
    @inline(never)
    public func roundTrips(_ k: Int, from value: Int) -> Int {
        var v = value
        for _ in 0..<k { v = resume(v) }
        return v
    }

    /// Create + first switch + destroy of a coroutine that returns at once, n times (the `create`
    /// harness's op): mmap + mprotect of the stack, the switch in and out, munmap.
    @inline(never)
    public static func createRunDestroy(_ n: Int, stackSize: Int = Coroutine.defaultStackSize) throws -> Int {
        var sum = 0
        for i in 0..<n {
            let c = try Coroutine(stackSize: stackSize) { _, v in v &+ 1 }
            sum &+= c.resume(i)
        }
        return sum
    }
}

// MARK: symmetric hand-off

extension Coroutine {
    /// The symmetric hand-off loop: both sides of a ping-pong run this same loop, so every
    /// switch is called from this one instruction and returns to it: the CPU's return-address
    /// predictor is right every time, as it is for tasks that all run the same loop (the token
    /// ring's tasks do). In the resume/yield form each switch returns into other code than the
    /// call came from, a mispredicted return per switch.
    @inline(never)
    static func handOffLoop(save: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                            load: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                            count: Int, stop: UnsafePointer<Bool>) {
        var i = 0
        while i < count && !stop.pointee {
            sb_coro_switch(save, load.pointee)
            i &+= 1
        }
    }

    static let cancelledOffset = MemoryLayout<CoroutineControl>.offset(of: \.cancelled)!

    /// A partner for `handOffs`: its body runs `handOffLoop` until the coroutine is destroyed.
    public static func symmetricPartner(stackSize: Int = Coroutine.defaultStackSize) throws -> Coroutine {
        try Coroutine(stackSize: stackSize) { y, _ in
            let c = y.control
            let stop = (UnsafeMutableRawPointer(c) + Coroutine.cancelledOffset).assumingMemoryBound(to: Bool.self)
            handOffLoop(save: selfSlot(c), load: callerSlot(c), count: .max, stop: stop)
            return 0
        }
    }

    /// n round trips (2n switches) with a `symmetricPartner`, both sides in `handOffLoop`.
    public func handOffs(_ n: Int) {
        let c = control
        precondition(c.pointee.state == .created || c.pointee.state == .suspended, "handOffs with a running or finished coroutine")
        c.pointee.state = .running
        let stop = (UnsafeMutableRawPointer(c) + Coroutine.cancelledOffset).assumingMemoryBound(to: Bool.self)
        Coroutine.handOffLoop(save: Coroutine.callerSlot(c), load: Coroutine.selfSlot(c), count: n, stop: stop)
        c.pointee.state = .suspended   // inside its own handOffLoop
    }
}
