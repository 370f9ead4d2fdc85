// slow-syscalls N CMD...: runs CMD with a seccomp filter that allows every system call after N reads of
// its first argument, so the kernel cannot cache the verdict (Linux >= 5.11 skips filters whose answer
// does not depend on the arguments) and runs the filter on every call: a uniform slowdown of the kernel
// entry path, as a new mitigation would bring (larger N, slower; N <= 4000). Used by
// scripts/experiments/real-regression.sh to check that the CI gate catches a regression that is really there.
// Children inherit the filter.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 2 ? atoi(argv[1]) : -1;
    if (n < 1 || n > 4000) { fprintf(stderr, "usage: slow-syscalls N CMD [ARG...]   (1 <= N <= 4000)\n"); return 2; }
    struct sock_filter *filter = calloc((size_t)n + 1, sizeof *filter);
    if (!filter) return 1;
    for (int i = 0; i < n; i++)
        filter[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    filter[n] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = { .len = (unsigned short)(n + 1), .filter = filter };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("slow-syscalls: seccomp");
        return 1;
    }
    execvp(argv[2], argv + 2);
    perror("slow-syscalls: exec");
    return 127;
}
