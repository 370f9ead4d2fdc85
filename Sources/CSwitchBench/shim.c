#include "CSwitchBench.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

int sb_hypervisor_signature(char out[13]) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 31))) return -1;  // no hypervisor bit
    __cpuid(0x40000000, a, b, c, d);
    memcpy(out, &b, 4); memcpy(out + 4, &c, 4); memcpy(out + 8, &d, 4);
    out[12] = 0;
    return 0;
#else
    (void)out;
    return -1;
#endif
}

long sb_syscall_getppid(void) { return syscall(SYS_getppid); }
long sb_sys_read(int fd, void *buf, size_t count) {
    long r = syscall(SYS_read, fd, buf, count);
    return r >= 0 ? r : -errno;
}

long sb_sys_write(int fd, const void *buf, size_t count) {
    long r = syscall(SYS_write, fd, buf, count);
    return r >= 0 ? r : -errno;
}

int sb_gettid(void) { return (int)syscall(SYS_gettid); }
int sb_sched_getcpu(void) { return sched_getcpu(); }

int sb_futex_wait(uint32_t *addr, uint32_t expected, long timeout_ns, int shared) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns > 0) {
        ts.tv_sec = timeout_ns / 1000000000L;
        ts.tv_nsec = timeout_ns % 1000000000L;
        tsp = &ts;
    }
    int op = shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE;
    long r = syscall(SYS_futex, addr, op, expected, tsp, NULL, 0);
    return r == 0 ? 0 : -errno;
}

int sb_futex_wake(uint32_t *addr, int n, int shared) {
    int op = shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE;
    long r = syscall(SYS_futex, addr, op, n, NULL, NULL, 0);
    return r >= 0 ? (int)r : -errno;
}

uint32_t sb_load_acquire(const uint32_t *addr) { return __atomic_load_n(addr, __ATOMIC_ACQUIRE); }
void sb_store_release(uint32_t *addr, uint32_t value) { __atomic_store_n(addr, value, __ATOMIC_RELEASE); }
uint32_t sb_fetch_add(uint32_t *addr, uint32_t delta) { return __atomic_fetch_add(addr, delta, __ATOMIC_ACQ_REL); }

int sb_set_affinity(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return -EINVAL;
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

int sb_get_affinity(int *out, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -errno;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
    return n;
}

int sb_set_sched_batch(int batch) {
    struct sched_param p = { .sched_priority = 0 };
    return sched_setscheduler(0, batch ? SCHED_BATCH : SCHED_OTHER, &p) == 0 ? 0 : -errno;
}

const uint32_t SB_PERF_TYPE_HARDWARE = PERF_TYPE_HARDWARE;
const uint32_t SB_PERF_TYPE_SOFTWARE = PERF_TYPE_SOFTWARE;
const uint32_t SB_PERF_TYPE_HW_CACHE = PERF_TYPE_HW_CACHE;
const uint32_t SB_PERF_TYPE_TRACEPOINT = PERF_TYPE_TRACEPOINT;
const uint64_t SB_PERF_COUNT_SW_CONTEXT_SWITCHES = PERF_COUNT_SW_CONTEXT_SWITCHES;
const uint64_t SB_PERF_COUNT_SW_CPU_MIGRATIONS = PERF_COUNT_SW_CPU_MIGRATIONS;
const uint64_t SB_PERF_COUNT_SW_PAGE_FAULTS = PERF_COUNT_SW_PAGE_FAULTS;
const uint64_t SB_PERF_COUNT_HW_CPU_CYCLES = PERF_COUNT_HW_CPU_CYCLES;
const uint64_t SB_PERF_COUNT_HW_INSTRUCTIONS = PERF_COUNT_HW_INSTRUCTIONS;

uint64_t sb_perf_cache_config(int dtlb_or_itlb, int misses) {
    uint64_t cache = dtlb_or_itlb ? PERF_COUNT_HW_CACHE_ITLB : PERF_COUNT_HW_CACHE_DTLB;
    uint64_t result = misses ? PERF_COUNT_HW_CACHE_RESULT_MISS : PERF_COUNT_HW_CACHE_RESULT_ACCESS;
    return cache | ((uint64_t)PERF_COUNT_HW_CACHE_OP_READ << 8) | (result << 16);
}

int sb_perf_open_group(uint32_t type, uint64_t config, int inherit, int exclude_kernel, int exclude_hv, int group_fd) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    attr.disabled = 1;
    attr.inherit = inherit ? 1 : 0;
    attr.exclude_kernel = exclude_kernel ? 1 : 0;  // software context-switches read 0 unless 0
    attr.exclude_hv = exclude_hv ? 1 : 0;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
    return fd >= 0 ? (int)fd : -errno;
}

int sb_perf_read(int fd, uint64_t *value, uint64_t *enabled, uint64_t *running) {
    uint64_t buf[3];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n != (ssize_t)sizeof buf) return n < 0 ? -errno : -EIO;
    *value = buf[0]; *enabled = buf[1]; *running = buf[2];
    return 0;
}

int sb_perf_enable(int fd) { return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) == 0 ? 0 : -errno; }
int sb_perf_disable(int fd) { return ioctl(fd, PERF_EVENT_IOC_DISABLE, 0) == 0 ? 0 : -errno; }
int sb_perf_reset(int fd) { return ioctl(fd, PERF_EVENT_IOC_RESET, 0) == 0 ? 0 : -errno; }

// ---- process lifetime ------------------------------------------------------

int sb_set_parent_death_signal(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 ? 0 : -errno;
}

int sb_set_name(const char *name) {
    return prctl(PR_SET_NAME, name) == 0 ? 0 : -errno;
}

int sb_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -errno;
}

// Enough for the many-tasks harnesses (up to pid_max children); a hint makes tracking N children O(N).
#define MAX_CHILDREN 32768
#define MAX_TEMPS 16
static volatile pid_t children[MAX_CHILDREN];
static volatile int child_hint;
static char temps[MAX_TEMPS][1024];
static volatile sig_atomic_t temp_used[MAX_TEMPS];

void sb_track_child(pid_t pid) {
    int start = child_hint;
    for (int k = 0; k < MAX_CHILDREN; k++) {
        int i = (start + k) % MAX_CHILDREN;
        if (__sync_bool_compare_and_swap(&children[i], 0, pid)) { child_hint = (i + 1) % MAX_CHILDREN; return; }
    }
}

// Where the last untracked child was found.
static volatile int untrack_hint;

void sb_untrack_child(pid_t pid) {
    // A ring reaps the child it just made (found just before child_hint); a many-task case reaps
    // thousands in the order they were made (found just after the last one untracked). Look in both
    // places first, then everywhere: reaping N children in order stays O(N), not O(N²).
    int last = untrack_hint;
    for (int k = 0; k < 4; k++) {
        int i = (last + k) % MAX_CHILDREN;
        if (children[i] == pid) { children[i] = 0; untrack_hint = i; return; }
    }
    int start = child_hint;
    for (int k = 1; k <= MAX_CHILDREN; k++) {
        int i = ((start - k) % MAX_CHILDREN + MAX_CHILDREN) % MAX_CHILDREN;
        if (children[i] == pid) { children[i] = 0; untrack_hint = i; return; }
    }
}

int sb_close_range(unsigned int first, unsigned int last) {
    if (first > last) return 0;
    return syscall(SYS_close_range, first, last, 0) == 0 ? 0 : -errno;
}

void sb_track_tempfile(const char *path) {
    for (int i = 0; i < MAX_TEMPS; i++) {
        if (!temp_used[i]) {
            strncpy(temps[i], path, sizeof temps[i] - 1);
            temps[i][sizeof temps[i] - 1] = 0;
            temp_used[i] = 1;
            return;
        }
    }
}

void sb_untrack_tempfile(const char *path) {
    for (int i = 0; i < MAX_TEMPS; i++)
        if (temp_used[i] && strcmp(temps[i], path) == 0) { temp_used[i] = 0; return; }
}


static char trace_instance[256];
static char trace_mount[256];

void sb_track_trace_instance(const char *instance, const char *mounted) {
    trace_instance[0] = 0;
    trace_mount[0] = 0;
    if (instance) { strncpy(trace_instance, instance, sizeof trace_instance - 1); trace_instance[sizeof trace_instance - 1] = 0; }
    if (mounted) { strncpy(trace_mount, mounted, sizeof trace_mount - 1); trace_mount[sizeof trace_mount - 1] = 0; }
}

static void on_interrupt(int sig) {
    // Only async-signal-safe calls: kill, waitpid, unlink, rmdir, umount2, _exit.
    if (trace_instance[0]) rmdir(trace_instance);   // removing the instance disables its events
    if (trace_mount[0]) umount2(trace_mount, 0);
    for (int i = 0; i < MAX_CHILDREN; i++) {
        pid_t pid = children[i];
        if (pid > 0) kill(pid, SIGKILL);
    }
    for (int i = 0; i < MAX_CHILDREN; i++) {
        pid_t pid = children[i];
        if (pid > 0) { while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {} children[i] = 0; }
    }
    for (int i = 0; i < MAX_TEMPS; i++)
        if (temp_used[i]) unlink(temps[i]);
    _exit(128 + sig);
}

int sb_ended_child(void) {
    // waitid with WNOWAIT: look without reaping (the owner reaps and names it).
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -errno;
    return info.si_pid;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434   /* the same number on every architecture's generic table */
#endif

int sb_pidfd_open(pid_t pid) {
    long r = syscall(SYS_pidfd_open, pid, 0);
    return r < 0 ? -errno : (int)r;
}

int sb_wait_exited_nowait(pid_t pid) {
    // Blocks until the child has exited and leaves it a zombie (WNOWAIT): its exit status, read
    // from the task the kernel keeps until waitpid.
    siginfo_t info;
    memset(&info, 0, sizeof info);
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0)
        if (errno != EINTR) return -errno;
    return info.si_code == CLD_EXITED ? info.si_status : -1000 - info.si_status;
}

void sb_install_interrupt_cleanup(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigfillset(&sa.sa_mask);  // one handler at a time
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    // A parent may have started us with these blocked (the mask survives exec; Dispatch worker
    // threads block everything): unblock them, or the handler would never run.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

uint64_t sb_touch_lines(const volatile uint8_t *buf, size_t bytes) {
    uint64_t sum = 0;
    for (size_t i = 0; i < bytes; i += 64) sum += buf[i];
    return sum;
}

// ---- libnuma through dlopen ------------------------------------------------

static void (*numa_tonode_memory_fn)(void *, size_t, int);

int sb_numa_available(void) {
    static int state = 0;  // 0 unknown, 1 ok, -1 not available
    if (state == 0) {
        void *h = dlopen("libnuma.so.1", RTLD_NOW | RTLD_LOCAL);
        int (*avail)(void) = h ? (int (*)(void))dlsym(h, "numa_available") : NULL;
        numa_tonode_memory_fn = h ? (void (*)(void *, size_t, int))dlsym(h, "numa_tonode_memory") : NULL;
        state = (avail && numa_tonode_memory_fn && avail() >= 0) ? 1 : -1;
    }
    return state == 1 ? 0 : -1;
}

int sb_numa_tonode_memory(void *p, size_t bytes, int node) {
    if (sb_numa_available() != 0) return -1;
    numa_tonode_memory_fn(p, bytes, node);
    return 0;
}

// ---- heap accounting (many-tasks memory harness) ---------------------------

#include <malloc.h>

uint64_t sb_heap_in_use(void) {
    struct mallinfo2 m = mallinfo2();
    return (uint64_t)m.uordblks + (uint64_t)m.hblkhd;
}

// ---- epoll (events harness): struct epoll_event is packed on x86_64, kept out of Swift ----

#include <sys/epoll.h>

int sb_epoll_add(int epfd, int fd, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = data;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int sb_epoll_wait(int epfd, uint64_t *datas, int max, int timeout_ms) {
    struct epoll_event ev[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, ev, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) datas[i] = ev[i].data.u64;
    return n;
}

int sb_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

#include <sys/eventfd.h>

int sb_eventfd(int nonblocking) {
    int fd = eventfd(0, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0));
    return fd >= 0 ? fd : -errno;
}

void sb_block_interrupts(int block) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

uint64_t sb_thread_involuntary_switches(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
    return (uint64_t)ru.ru_nivcsw;
}

int sb_schedstat_open(void) {
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

uint64_t sb_schedstat_run_delay(int fd) {
    char buf[128];
    if (fd < 0) return UINT64_MAX;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return UINT64_MAX;
    buf[n] = 0;
    const char *p = buf;
    while (*p >= '0' && *p <= '9') p++;   // field 1: time on the CPU
    if (*p != ' ') return UINT64_MAX;
    p++;
    uint64_t v = 0;
    if (*p < '0' || *p > '9') return UINT64_MAX;
    while (*p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
    return v;
}

uint64_t sb_reaped_children_cpu_ns(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0) return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull
         + ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

uint64_t sb_read_tsc(void) {
#if defined(__x86_64__)
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux) :: "memory");
    return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
    return v;
#else
    return 0;
#endif
}

uint64_t sb_clock_ns(int clock_id) {
    struct timespec ts;
    if (clock_gettime(clock_id, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
