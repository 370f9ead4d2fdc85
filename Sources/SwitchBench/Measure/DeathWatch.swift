import CSwitchBench
import Glibc

/// Notices, with no timer, that a forked task of a case has exited: a thread of this process blocked
/// in `poll()` on one pidfd per child (readable once that child has exited, reaped or not) and on an
/// eventfd that ends the watch. When a child exits first, it calls `onDeath` once and ends.
///
/// Why it cannot take the measured tasks' CPU: it is asleep in `poll` (not runnable) from the moment it
/// starts until a child exits or `end()` is called; a watched child exits only when its case ends or
/// fails, so during the timed laps it never runs. (Its only run, at its start, comes before the first
/// sample.) The ring's tasks wait with no timeout (`TokenRingHarness.awaitToken`); this is what still
/// ends a case promptly when one of them dies. Started after the children are forked (`RingInstance`),
/// so no child is forked from a process with this thread in it.
final class DeathWatch {
    private var fds: [Int32]
    private let endFD: Int32
    private var thread: pthread_t?
    private var ended = false

    /// nil when a pidfd or the eventfd cannot be had (pidfd_open needs Linux 5.3): the caller then
    /// looks for a dead child itself (`TaskGroup.deadChild`) at a timeout.
    init?(pids: [pid_t], onDeath: @escaping () -> Void) {
        var fds: [Int32] = []
        for pid in pids {
            let fd = sb_pidfd_open(pid)
            guard fd >= 0 else { fds.forEach { _ = Glibc.close($0) }; return nil }
            fds.append(fd)
        }
        let e = sb_eventfd(0)
        guard e >= 0 else { fds.forEach { _ = Glibc.close($0) }; return nil }
        (self.fds, endFD) = (fds, e)
        let watched = fds + [e]
        thread = try? TaskGroup.startThread(failure: "starting the death watch") {
            var polls = watched.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            while poll(&polls, nfds_t(polls.count), -1) < 0 && errno == EINTR {}
            // Ended by `end()` when the eventfd is readable, even if a child exited meanwhile (a case
            // ends its watch before it stops its tasks, so their exits are not deaths).
            if polls[polls.count - 1].revents == 0 { onDeath() }
        }
        guard thread != nil else { end(); return nil }
    }

    /// Ends the watch and waits for its thread; closes the fds. Idempotent.
    func end() {
        guard !ended else { return }
        ended = true
        var one: UInt64 = 1
        _ = sb_sys_write(endFD, &one, 8)
        if let t = thread { pthread_join(t, nil) }
        thread = nil
        fds.forEach { _ = Glibc.close($0) }
        fds = []
        _ = Glibc.close(endFD)
    }

    deinit { end() }
}
