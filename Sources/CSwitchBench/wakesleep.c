// The anatomy harness's `wake-sleep` pair: a futex hand-off's two halves, each timed alone. Two tasks
// on one CPU, both SCHED_BATCH, take turns: the active one wakes the other (FUTEX_WAKE of a sleeper:
// try_to_wake_up puts it on the run queue, and a woken SCHED_BATCH task does not preempt its waker,
// kernel/sched/fair.c check_preempt_wakeup_fair), wakes it again (FUTEX_WAKE with no waiter: it is
// already runnable), then goes to sleep in FUTEX_WAIT; the other returns from its own FUTEX_WAIT.
// Timed: each FUTEX_WAKE call alone (clock read just around it), and the sleep from the sleeper's
// clock read before its FUTEX_WAIT to the woken task's clock read after its FUTEX_WAIT returned.
#include "CSwitchBench.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t switches(void) {   // the calling thread's voluntary + involuntary switches
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? (uint64_t)(ru.ru_nvcsw + ru.ru_nivcsw) : 0;
}

// The state letter of task `tid` from /proc/<tid>/stat ('?' when unreadable); no allocation.
static char task_state(int tid) {
    char path[32] = "/proc/", digits[12], buf[256];
    int n = 0, len = 6;
    do { digits[n++] = (char)('0' + tid % 10); tid /= 10; } while (tid > 0);
    while (n > 0) path[len++] = digits[--n];
    const char *tail = "/stat";
    while (*tail) path[len++] = *tail++;
    path[len] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return '?';
    long got = read(fd, buf, sizeof buf - 1);
    close(fd);
    for (long i = got - 1; i > 0; i--)
        if (buf[i] == ')') return i + 2 < got ? buf[i + 2] : '?';
    return '?';
}

// One half-cycle of task `me`: wake the sleeping other task, check it if asked, wake it again.
static void wake_other(struct sb_ws *s, int me, int check) {
    int other = 1 - me;
    if (check) { s->checks++; if (task_state(s->tid[other]) == 'S') s->saw_sleeping++; }
    sb_store_release(&s->word[other], SB_WS_TOKEN);
    uint64_t sw0 = switches();
    uint64_t a = now_ns(CLOCK_MONOTONIC);
    int woken = sb_futex_wake(&s->word[other], 1, 1);
    uint64_t b = now_ns(CLOCK_MONOTONIC);
    int none = sb_futex_wake(&s->word[other], 1, 1);
    uint64_t c = now_ns(CLOCK_MONOTONIC);
    s->wake_switches += switches() - sw0;
    if (check && task_state(s->tid[other]) == 'R') s->saw_runnable++;
    s->wake_ns += b - a;
    s->none_ns += c - b;
    s->woken += woken > 0 ? (uint64_t)woken : 0;
    s->woken_none += none > 0 ? (uint64_t)none : 0;
}

void sb_ws_task(struct sb_ws *s, int me) {
    int cpu = s->cpu;
    sb_set_affinity(&cpu, 1);
    sb_set_sched_batch(1);
    s->tid[me] = sb_gettid();
    s->cpu_seen[2 * me] = sched_getcpu();
    uint32_t batch = 0;
    for (;;) {
        uint64_t sw0 = switches();
        if (s->left <= 1) s->cpu_last[me] = now_ns(CLOCK_THREAD_CPUTIME_ID);
        s->stamp = now_ns(CLOCK_MONOTONIC);
        sb_store_release(&s->sleeping, 1);
        uint32_t v;
        while ((v = sb_load_acquire(&s->word[me])) == 0) sb_futex_wait(&s->word[me], 0, 0, 1);
        uint64_t t = now_ns(CLOCK_MONOTONIC);
        sb_store_release(&s->word[me], 0);
        if (v == SB_WS_STOP) break;
        int check = 0;
        if (v == SB_WS_START) s->wall_start = t;
        if (sb_load_acquire(&s->batch) != batch) {          // this task's first turn in a batch
            batch = sb_load_acquire(&s->batch);
            s->cpu_first[me] = now_ns(CLOCK_THREAD_CPUTIME_ID);
            check = 1;
        }
        if (v == SB_WS_TOKEN) {                             // the other task's sleep ended here
            if (sb_load_acquire(&s->sleeping)) s->sleep_ns += t - s->stamp;
            else s->disorder++;                             // it ran before the other slept
            s->sleeps++;
            s->sleep_switches += switches() - sw0;          // this task's own sleep: one switch out
        }
        sb_store_release(&s->sleeping, 0);
        if (s->left == 0) {                                 // the batch is over: report to the driver
            s->wall_ns = now_ns(CLOCK_MONOTONIC) - s->wall_start;
            s->cpu_last[me] = now_ns(CLOCK_THREAD_CPUTIME_ID);
            sb_store_release(&s->done, batch);
            sb_futex_wake(&s->done, 1, 1);
            continue;
        }
        s->left--;
        wake_other(s, me, check);
    }
    s->cpu_seen[2 * me + 1] = sched_getcpu();
}
