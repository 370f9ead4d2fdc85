#include "sb_coro.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

extern void sb_coro_trampoline(void);

void *sb_coro_init_stack(void *top, void (*entry)(void *), void *arg) {
    uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
#if defined(__x86_64__)
    // Frame as sb_coro_switch pops it: [mxcsr, x87 cw] r15 r14 r13 r12 rbx rbp [return address].
    // 8 words; 16 bytes left free above so that rsp is 16-aligned after `ret` into the trampoline.
    uint64_t *sp = (uint64_t *)(t - 16 - 8 * 8);
    uint32_t mxcsr;
    uint16_t cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    sp[0] = (uint64_t)mxcsr | ((uint64_t)cw << 32);
    sp[1] = 0;                    // r15
    sp[2] = 0;                    // r14
    sp[3] = (uint64_t)arg;        // r13
    sp[4] = (uint64_t)entry;      // r12
    sp[5] = 0;                    // rbx
    sp[6] = 0;                    // rbp
    sp[7] = (uint64_t)sb_coro_trampoline;
    return sp;
#elif defined(__aarch64__)
    // Frame as sb_coro_switch loads it: x19..x28, x29, x30, d8..d15 (20 words, 160 bytes).
    uint64_t *sp = (uint64_t *)(t - 160);
    memset(sp, 0, 160);
    sp[0] = (uint64_t)entry;      // x19
    sp[1] = (uint64_t)arg;        // x20
    sp[11] = (uint64_t)sb_coro_trampoline;  // x30
    return sp;
#else
#error "sb_coro_switch exists for x86_64 and aarch64 only"
#endif
}

void *sb_coro_stack_alloc(size_t usable, void **top) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    usable = (usable + page - 1) / page * page;
    void *base = mmap(NULL, usable + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) return NULL;
    if (mprotect(base, page, PROT_NONE) != 0) {
        int e = errno;
        munmap(base, usable + page);
        errno = e;
        return NULL;
    }
    *top = (char *)base + page + usable;
    return base;
}

int sb_coro_stack_free(void *base, size_t usable) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    usable = (usable + page - 1) / page * page;
    return munmap(base, usable + page) == 0 ? 0 : -errno;
}

// ---- ucontext ---------------------------------------------------------------

typedef struct {
    ucontext_t uc;
    void (*fn)(void *);
    void *arg;
} sb_uctx;

size_t sb_uctx_size(void) { return sizeof(sb_uctx); }

static void uctx_entry(unsigned lo, unsigned hi) {
    sb_uctx *c = (sb_uctx *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
    c->fn(c->arg);
    abort();  // fn must not return: there is no uc_link to go to
}

int sb_uctx_make(void *ctx, void *stack, size_t size, void (*fn)(void *), void *arg) {
    sb_uctx *c = ctx;
    memset(c, 0, sizeof *c);
    if (getcontext(&c->uc) != 0) return -errno;
    c->uc.uc_stack.ss_sp = stack;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    c->fn = fn;
    c->arg = arg;
    uintptr_t p = (uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))uctx_entry, 2, (unsigned)(p & 0xffffffffu), (unsigned)(p >> 32));
    return 0;
}

int sb_uctx_swap(void *from, void *to) {
    return swapcontext(&((sb_uctx *)from)->uc, &((sb_uctx *)to)->uc) == 0 ? 0 : -errno;
}

long sb_tracepoint_id(const char *event) {
    static const char *roots[] = {"/sys/kernel/tracing/events/", "/sys/kernel/debug/tracing/events/"};
    int err = ENOENT;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s/id", roots[i], event);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { if (errno != ENOENT) err = errno; continue; }
        char buf[32];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) return -EIO;
        buf[n] = 0;
        return strtol(buf, NULL, 10);
    }
    return -err;
}

int sb_cas_u32(uint32_t *addr, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n(addr, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
