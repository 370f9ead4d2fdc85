// CSwitchBench: the kernel-facing bits Swift cannot call directly.
// Keep this small: every function is a thin wrapper around one system call or macro.
#ifndef CSWITCHBENCH_H
#define CSWITCHBENCH_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

// ---- system calls ----------------------------------------------------------
/// getppid through syscall(2): a real kernel entry that glibc cannot cache.
long sb_syscall_getppid(void);
/// The calling thread's kernel id.
int sb_gettid(void);
/// The hypervisor's CPUID signature (leaf 0x40000000, e.g. "KVMKVMKVM") into out (13 bytes);
/// returns 0, or -1 when there is none or the CPU is not x86.
int sb_hypervisor_signature(char out[13]);
/// The CPU this thread runs on now (sched_getcpu(3)).
int sb_sched_getcpu(void);
/// Involuntary context switches of the calling thread so far (getrusage(RUSAGE_THREAD).ru_nivcsw):
/// the kernel took the CPU from it while it could still run. Returns the count, or 0 on error.
uint64_t sb_thread_involuntary_switches(void);
/// CPU time (user + system, ns at µs resolution) of every child this process has reaped
/// (getrusage(RUSAGE_CHILDREN)).
uint64_t sb_reaped_children_cpu_ns(void);
/// Opens the calling thread's /proc/thread-self/schedstat (its run_delay: time spent runnable on a
/// runqueue while the CPU ran something else). Returns the fd or -errno.
int sb_schedstat_open(void);
/// The run_delay (ns, second field) read from such an fd with pread, no allocation; UINT64_MAX on failure.
uint64_t sb_schedstat_run_delay(int fd);

/// read(2) and write(2) as plain system calls. glibc's wrappers are cancellation points: in a process
/// that ever had a second thread — and the forked children of one — they take the asynchronous
/// cancellation path around the system call, which measured 60–100 ns more per round trip here than
/// in a process that never had a thread. The ring loops use these, so process and thread rows pay
/// exactly the same IPC. Return the count, or -errno.
long sb_sys_read(int fd, void *buf, size_t count);
long sb_sys_write(int fd, const void *buf, size_t count);

// ---- per hand-off stamps (Measure/StampClock.swift) -------------------------
/// The CPU's time-stamp counter (x86: RDTSCP, which waits for the instructions before it; arm64:
/// CNTVCT_EL0 after an ISB); 0 where there is none. Ticks, converted by StampClock.
uint64_t sb_read_tsc(void);
/// clock_gettime(clock_id) in ns (a vDSO call for the MONOTONIC clocks).
uint64_t sb_clock_ns(int clock_id);

// ---- futex (a 32-bit word, private or shared mapping) ----------------------
/// FUTEX_WAIT while *addr == expected. timeout_ns <= 0 waits forever.
/// Returns 0 when woken, or -errno (-EAGAIN: value differed, -ETIMEDOUT, -EINTR).
int sb_futex_wait(uint32_t *addr, uint32_t expected, long timeout_ns, int shared);
/// FUTEX_WAKE up to n waiters. Returns how many were woken, or -errno.
int sb_futex_wake(uint32_t *addr, int n, int shared);

// ---- atomics on shared memory ----------------------------------------------
uint32_t sb_load_acquire(const uint32_t *addr);
void sb_store_release(uint32_t *addr, uint32_t value);
uint32_t sb_fetch_add(uint32_t *addr, uint32_t delta);

// ---- CPU affinity (CPU_SET macros) -----------------------------------------
/// Pins the calling thread to the given CPUs. Returns 0 or -errno.
int sb_set_affinity(const int *cpus, int count);
/// Writes the calling thread's allowed CPUs into out (at most max). Returns the count or -errno.
int sb_get_affinity(int *out, int max);

/// Sets the calling thread's policy: SCHED_BATCH (no wakeup preemption: it runs until it blocks)
/// when batch != 0, else SCHED_OTHER. Returns 0 or -errno.
int sb_set_sched_batch(int batch);

// ---- perf_event_open --------------------------------------------------------
/// Opens one counter on the calling thread (pid 0, any CPU), disabled, as a member of the group led
/// by group_fd (-1: a new group of its own; members are scheduled on the PMU together with their
/// leader, so their counts cover the same time). type/config as in perf_event_attr; inherit counts
/// threads and children created later. read_format carries TOTAL_TIME_ENABLED and
/// TOTAL_TIME_RUNNING for scaling. Returns the fd or -errno.
int sb_perf_open_group(uint32_t type, uint64_t config, int inherit, int exclude_kernel, int exclude_hv, int group_fd);
/// Reads value, time_enabled, time_running. Returns 0 or -errno.
int sb_perf_read(int fd, uint64_t *value, uint64_t *enabled, uint64_t *running);
int sb_perf_enable(int fd);
int sb_perf_disable(int fd);
int sb_perf_reset(int fd);
/// Constants Swift cannot import as macros.
extern const uint32_t SB_PERF_TYPE_HARDWARE, SB_PERF_TYPE_SOFTWARE, SB_PERF_TYPE_HW_CACHE, SB_PERF_TYPE_TRACEPOINT;
extern const uint64_t SB_PERF_COUNT_SW_CONTEXT_SWITCHES, SB_PERF_COUNT_SW_CPU_MIGRATIONS, SB_PERF_COUNT_SW_PAGE_FAULTS;
extern const uint64_t SB_PERF_COUNT_HW_CPU_CYCLES, SB_PERF_COUNT_HW_INSTRUCTIONS;
/// PERF_TYPE_HW_CACHE config: cache id | (op << 8) | (result << 16).
uint64_t sb_perf_cache_config(int dtlb_or_itlb /*0 = dTLB, 1 = iTLB*/, int misses /*0 = accesses, 1 = misses*/);

// ---- process lifetime -------------------------------------------------------
/// The child asks the kernel for SIGKILL when its parent dies, so no benchmark child outlives us.
int sb_set_parent_death_signal(void);
/// Names the calling thread (PR_SET_NAME, 15 bytes), as ps and /proc/<pid>/comm show it.
int sb_set_name(const char *name);
/// Makes this process adopt orphaned descendants (tests use it to see leftovers). Returns 0 or -errno.
int sb_set_child_subreaper(void);
/// Installs SIGINT/SIGTERM handlers that SIGKILL and reap every tracked child, unlink every
/// tracked temporary file, and _exit(128 + signal). Async-signal-safe; call once.
void sb_install_interrupt_cleanup(void);
/// The pid of a child of this process that has ended, left unreaped (waitid WNOWAIT); 0 when none; -errno.
int sb_ended_child(void);
// pidfd_open(pid, 0): an fd that poll() sees readable once the process has exited (Linux >= 5.3);
// -errno on failure.
int sb_pidfd_open(pid_t pid);
/// Waits (waitid WEXITED|WNOWAIT) until child `pid` has exited, leaving it unreaped (a zombie): its
/// exit code, -1000 - signal when a signal ended it, or -errno.
int sb_wait_exited_nowait(pid_t pid);
void sb_track_child(pid_t pid);
/// The tracefs instance directory the interrupt handler removes (rmdir), and the tracefs mount it
/// unmounts (one this process mounted); NULL clears either (`TailTrace`).
void sb_track_trace_instance(const char *instance, const char *mounted);
void sb_untrack_child(pid_t pid);
/// Blocks (1) or unblocks (0) SIGINT and SIGTERM in the calling thread: held across fork() and
/// sb_track_child so that the interrupt handler never misses a child that exists.
void sb_block_interrupts(int block);
/// close_range(2) of [first, last] (a forked child keeps only its own descriptors); 0 or -errno.
int sb_close_range(unsigned int first, unsigned int last);
/// Bytes malloc has handed out and not taken back (mallinfo2: uordblks + hblkhd).
uint64_t sb_heap_in_use(void);
/// epoll_ctl(ADD, EPOLLIN) with data.u64 = data; 0 or -errno.
/// epoll_create1(EPOLL_CLOEXEC): the descriptor or -errno.
int sb_epoll_create(void);
/// eventfd(0, EFD_CLOEXEC [| EFD_NONBLOCK]): the descriptor or -errno.
int sb_eventfd(int nonblocking);
int sb_epoll_add(int epfd, int fd, uint64_t data);
/// epoll_wait into an array of data.u64 values (at most 64); the count or -errno.
int sb_epoll_wait(int epfd, uint64_t *datas, int max, int timeout_ms);
/// path is copied; at most 16 paths of 1 KiB are tracked.
void sb_track_tempfile(const char *path);
void sb_untrack_tempfile(const char *path);

// ---- memory ----------------------------------------------------------------
/// Reads one byte in every 64-byte line of buf (a task's footprint) and returns their sum,
/// so the compiler cannot drop the loads.
uint64_t sb_touch_lines(const volatile uint8_t *buf, size_t bytes);

// ---- the hardware context and the mitigations (anatomy.c) -----------------
/// XCR0 (the state components the kernel enabled) and the XSAVE area size those need (CPUID leaf
/// 0xD sub-leaf 0, EBX), and the compacted XSAVES size for XCR0 | IA32_XSS (sub-leaf 1, EBX).
/// Returns 0, or -1 where there is no XSAVE (or the CPU is not x86).
int sb_xsave_info(uint64_t *xcr0, uint32_t *standard_bytes, uint32_t *compacted_bytes);
/// 1 when AVX-512 (F) is present and its three state components are enabled in XCR0, else 0.
int sb_avx512_usable(void);
/// 1 when the CPU has AMX tiles (CPUID 7.EDX bit 24), else 0.
int sb_amx_present(void);
/// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA): this process may use AMX tiles. 0 or -errno.
int sb_amx_request(void);
/// Leaves the calling thread's vector registers in use (not in their init state), so that every
/// context switch saves and restores them: 1 = nonzero values in zmm0–31 (AVX-512), 2 = a tile
/// configuration and nonzero data in tmm0–7 (AMX). Call only when usable.
void sb_dirty_vectors(int kind);
/// prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE): the kernel then
/// issues an indirect branch prediction barrier (IBPB) when it switches to this task from another
/// address space. 0 or -errno (ENXIO/EPERM where the mitigation is not under prctl control).
int sb_force_indirect_branch_barrier(void);

// ---- coroutines (switch_*.S, coro.c) -----------------------------------------
#include "sb_coro.h"

// ---- libnuma through dlopen (no libnuma-dev needed to build) ---------------
/// Loads libnuma.so.1 once; returns 0 when it loaded and numa_available() >= 0, else -1.
int sb_numa_available(void);
/// numa_tonode_memory(p, bytes, node); returns 0, or -1 when libnuma is not available.
int sb_numa_tonode_memory(void *p, size_t bytes, int node);

// ---- waking a sleeper and going to sleep, timed alone (wakesleep.c) ---------
/// What the futex words of a `wake-sleep` pair hold: 0 while its task waits, then why it was woken.
enum { SB_WS_TOKEN = 1, SB_WS_START = 2, SB_WS_STOP = 3 };
/// Shared by the two tasks of a pair and its driver (MAP_SHARED memory for processes). The driver
/// zeroes the sums, sets `left` (the batch's wakes) and bumps `batch`, stores SB_WS_START in word[0]
/// and wakes it, then waits on `done` == batch; the sums then cover the batch's `left` wakes and sleeps.
struct sb_ws {
    uint32_t word[2];      // task i sleeps on word[i]
    uint32_t batch, done, sleeping;
    int32_t cpu, tid[2], cpu_seen[4];
    int64_t left;
    uint64_t stamp, wall_start, wall_ns, cpu_first[2], cpu_last[2];
    uint64_t wake_ns, none_ns, sleep_ns;            // FUTEX_WAKE of a sleeper; with none; the sleep
    uint64_t woken, woken_none, wake_switches;     // FUTEX_WAKE results; the waker's switches in them
    uint64_t sleeps, sleep_switches, disorder;      // sleeps ended; the sleeper's switches; out of turn
    uint64_t checks, saw_sleeping, saw_runnable;    // /proc states of the other task around a wake
};
/// The loop of task `me` (0 or 1) of a pair, pinned to s->cpu, SCHED_BATCH, until SB_WS_STOP.
void sb_ws_task(struct sb_ws *s, int me);

// ---- build ------------------------------------------------------------------
/// The commit written in at build time (-DSB_GIT_COMMIT, scripts/build-static.sh); "" when none was.
const char *sb_git_commit(void);

#endif
