// switchbench-proc: the create harness's minimal parent. A small process that creates tasks the way
// lmbench's lat_proc does (fork/exit/waitpid, fork/execve/waitpid, plus posix_spawn and pthread
// create/join), so that a row times the creation, not the suite's own large Swift process.
//
//   switchbench-proc NOOP_PROGRAM     (NOOP_PROGRAM: what `exec` and `spawn` run, switchbench-noop)
//
// It reads one command per line on stdin and answers one line on stdout:
//   fork N | exec N | spawn N | thread N
//       -> "ok NS CPU_NS": NS is CLOCK_MONOTONIC across the N ops; CPU_NS is this process's CPU time
//          (CLOCK_PROCESS_CPUTIME_ID) plus its reaped children's (RUSAGE_CHILDREN) across them.
//   touch BYTES
//       -> "ok ADDRESS": maps BYTES of private anonymous memory, asks for 4 KiB pages
//          (MADV_NOHUGEPAGE) and makes every page resident and writable (MADV_POPULATE_WRITE, else a
//          write to each page); ADDRESS (hex) finds the mapping in /proc/<pid>/smaps.
//   cpu -> "ok CPU" (sched_getcpu: the CPU it runs on; it inherits its starter's affinity)
//   a failure -> "err WHAT: STRERROR". End of input: exit 0.
// The timing statistics live in the caller (Swift's Sampler); this program only runs batches.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *noop_argv[2];
static char *empty_env[1];
static int out_fd = 1;   // the answer pipe, close-on-exec (the children get /dev/null as stdin and stdout)

static uint64_t ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void) {   // this process and its reaped children
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    uint64_t children = ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)) * 1000000000u
        + ((uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)) * 1000u;
    return ns(CLOCK_PROCESS_CPUTIME_ID) + children;
}

static void reply(const char *fmt, unsigned long long a, unsigned long long b) {
    char line[128];
    int len = snprintf(line, sizeof line, fmt, a, b);
    if (write(out_fd, line, (size_t)len) != len) _exit(1);
}

static void fail(const char *what, int err) {
    char line[256];
    int len = snprintf(line, sizeof line, "err %s: %s\n", what, strerror(err));
    if (write(out_fd, line, (size_t)len) != len) _exit(1);
}

// Waits for a child that must exit 0; returns 0 or an errno-like code (ECHILD for a bad status).
static int reap(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return errno;
    return status == 0 ? 0 : ECHILD;
}

static void *thread_body(void *arg) { return arg; }

// Runs n ops of one kind; 0, or an error code with *what set.
static int run(const char *kind, long n, const char **what) {
    for (long i = 0; i < n; i++) {
        pid_t pid;
        int err;
        if (kind[0] == 'f') {                       // fork: the child exits at once, by exit() as
            *what = "fork";                         // lat_proc's does (libc's exit handlers run;
            pid = fork();                           // this parent writes with write(), so stdio
            if (pid == 0) exit(0);                  // holds nothing to flush twice)
            if (pid < 0) return errno;
        } else if (kind[0] == 'e') {                // fork + execve of the no-op
            *what = "fork+execve";
            pid = fork();
            if (pid == 0) {
                execve(noop_argv[0], noop_argv, empty_env);
                _exit(127);
            }
            if (pid < 0) return errno;
        } else if (kind[0] == 's') {                // posix_spawn of the no-op (CLONE_VM|CLONE_VFORK)
            *what = "posix_spawn";
            err = posix_spawn(&pid, noop_argv[0], NULL, NULL, noop_argv, empty_env);
            if (err) return err;
        } else {                                    // a thread that returns at once
            pthread_t t;
            *what = "pthread_create";
            err = pthread_create(&t, NULL, thread_body, NULL);
            if (err) return err;
            pthread_join(t, NULL);
            continue;
        }
        if ((err = reap(pid))) { *what = "child exit status"; return err; }
    }
    return 0;
}

static int touch(size_t bytes, uintptr_t *address) {
    if (bytes == 0) { *address = 0; return 0; }
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return errno;
    if (madvise(p, bytes, MADV_NOHUGEPAGE) != 0) return errno;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    // Linux 5.14+: every page faulted in writable by one call; before that, one write per page.
    if (madvise(p, bytes, MADV_POPULATE_WRITE) != 0)
        for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
    *address = (uintptr_t)p;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: switchbench-proc NOOP_PROGRAM (commands on stdin, see the source)\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);   // never outlive the suite
    noop_argv[0] = argv[1];
    signal(SIGCHLD, SIG_DFL);
    // Commands come through stdio's buffer on fd 0; answers go to a close-on-exec copy of fd 1, and
    // fds 0 and 1 become /dev/null so that no child holds the pipes.
    int in_fd = fcntl(0, F_DUPFD_CLOEXEC, 3), null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    FILE *in = in_fd >= 0 ? fdopen(in_fd, "r") : NULL;
    if (!in || out_fd < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0) {
        perror("switchbench-proc: setting up its descriptors");
        return 1;
    }
    char line[128], kind[16];
    unsigned long long count;
    while (fgets(line, sizeof line, in)) {
        if (strcmp(line, "cpu\n") == 0) {
            reply("ok %llu\n", (unsigned long long)sched_getcpu(), 0);
        } else if (sscanf(line, "touch %llu", &count) == 1) {
            uintptr_t address;
            int err = touch((size_t)count, &address);
            if (err) fail("mmap/madvise", err); else reply("ok %llx\n", address, 0);
        } else if (sscanf(line, "%15s %llu", kind, &count) == 2 && count > 0 &&
                   (!strcmp(kind, "fork") || !strcmp(kind, "exec") || !strcmp(kind, "spawn") || !strcmp(kind, "thread"))) {
            const char *what = kind;
            uint64_t c0 = cpu_ns(), t0 = ns(CLOCK_MONOTONIC);
            int err = run(kind, (long)count, &what);
            uint64_t t1 = ns(CLOCK_MONOTONIC), c1 = cpu_ns();
            if (err) fail(what, err); else reply("ok %llu %llu\n", t1 - t0, c1 - c0);
        } else {
            fail("unknown command", EINVAL);
        }
    }
    return 0;
}
