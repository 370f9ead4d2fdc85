// A small C driver for the coroutine switch (Sources/CSwitchBench/switch_*.S + coro.c), built
// natively or for aarch64 by scripts/aarch64-check.sh and run under qemu-aarch64.
// Checks: values round-trip, callee-saved integer and FP registers survive a switch to a
// coroutine that overwrites them, the FP
// control state (x86_64: MXCSR, x87 CW) is per coroutine, the coroutine runs to completion.
// Prints "PASS …" and exits 0, or "FAIL …" and exits 1.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sb_coro.h"

static void *main_sp, *coro_sp;
static volatile long value;
static volatile int finished;
static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL: " __VA_ARGS__); printf("\n"); failures++; } } while (0)

static void yield_to_main(void) { sb_coro_switch(&coro_sp, main_sp); }
static void resume_coro(void) { sb_coro_switch(&main_sp, coro_sp); }

static void body(void *arg) {
    long steps = (long)(intptr_t)arg;
    double f = 1.5;                      // lives in a callee-saved FP register or on this stack
    for (long i = 0; i < steps; i++) {
        value = value * 2 + 1;
        f = f * 1.0000001;
        yield_to_main();
    }
    value = (long)(f > 1.5 ? 1000000 : -1);
    finished = 1;
    yield_to_main();
    abort();                             // never resumed after finishing
}

#if defined(__x86_64__)
static uint32_t get_mxcsr(void) { uint32_t m; __asm__ volatile("stmxcsr %0" : "=m"(m)); return m; }
static void set_mxcsr(uint32_t m) { __asm__ volatile("ldmxcsr %0" : : "m"(m)); }
static void *fp_coro_sp;
static volatile uint32_t seen_in_coro;
static void fp_body(void *arg) {
    (void)arg;
    set_mxcsr((get_mxcsr() & ~0x6000u) | 0x6000u);   // round toward zero inside the coroutine
    sb_coro_switch(&fp_coro_sp, main_sp);
    seen_in_coro = get_mxcsr();
    sb_coro_switch(&fp_coro_sp, main_sp);
    abort();
}
#endif

// A coroutine that overwrites every callee-saved register, then switches back: whatever main
// kept in those registers must come back intact (restored by sb_coro_switch, not by the compiler).
static void *clobber_sp;
static void clobber_body(void *arg) {
    (void)arg;
    for (;;) {
#if defined(__x86_64__)
        __asm__ volatile("xor %%ebx, %%ebx; xor %%r12d, %%r12d; xor %%r13d, %%r13d; xor %%r14d, %%r14d; xor %%r15d, %%r15d"
                         ::: "rbx", "r12", "r13", "r14", "r15");
#elif defined(__aarch64__)
        __asm__ volatile("mov x19, xzr; mov x20, xzr; mov x21, xzr; mov x22, xzr; mov x23, xzr\n"
                         "mov x24, xzr; mov x25, xzr; mov x26, xzr; mov x27, xzr; mov x28, xzr\n"
                         "fmov d8, xzr; fmov d9, xzr; fmov d10, xzr; fmov d11, xzr\n"
                         "fmov d12, xzr; fmov d13, xzr; fmov d14, xzr; fmov d15, xzr"
                         ::: "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
                             "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15");
#endif
        sb_coro_switch(&clobber_sp, main_sp);
    }
}

static void check_callee_saved(void *top) {
    clobber_sp = sb_coro_init_stack(top, clobber_body, NULL);
#if defined(__x86_64__)
    register long a __asm__("rbx") = 11, b __asm__("r12") = 12, c __asm__("r13") = 13, d __asm__("r14") = 14, e __asm__("r15") = 15;
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e));
    sb_coro_switch(&main_sp, clobber_sp);
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e));
    CHECK(a == 11 && b == 12 && c == 13 && d == 14 && e == 15, "callee-saved integer registers not restored");
#elif defined(__aarch64__)
    register long a __asm__("x19") = 19, b __asm__("x24") = 24, c __asm__("x28") = 28;
    register double f8 __asm__("d8") = 8.5, f11 __asm__("d11") = 11.5, f15 __asm__("d15") = 15.5;
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+w"(f8), "+w"(f11), "+w"(f15));
    sb_coro_switch(&main_sp, clobber_sp);
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+w"(f8), "+w"(f11), "+w"(f15));
    CHECK(a == 19 && b == 24 && c == 28, "callee-saved x19-x28 not restored");
    CHECK(f8 == 8.5 && f11 == 11.5 && f15 == 15.5, "callee-saved d8-d15 not restored");
#endif
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void) {
    void *top;
    void *base = sb_coro_stack_alloc(64 * 1024, &top);
    CHECK(base != NULL, "stack alloc");
    if (!base) return 1;

    // 1. values round-trip and the body runs to completion
    long steps = 10;
    coro_sp = sb_coro_init_stack(top, body, (void *)(intptr_t)steps);
    value = 0;
    long expect = 0;
    register double keep = 3.25;         // must survive the switches (d8-d15 / stack)
    for (long i = 0; i < steps; i++) {
        resume_coro();
        expect = expect * 2 + 1;
        CHECK(value == expect, "step %ld: value %ld, expected %ld", i, value, expect);
    }
    resume_coro();
    CHECK(finished == 1 && value == 1000000, "body did not finish (finished=%d value=%ld)", finished, value);
    CHECK(keep == 3.25, "FP value changed across switches");

    // 2. FP control state is per coroutine (x86_64: MXCSR rounding mode)
#if defined(__x86_64__)
    uint32_t before = get_mxcsr();
    fp_coro_sp = sb_coro_init_stack(top, fp_body, NULL);
    sb_coro_switch(&main_sp, fp_coro_sp);
    CHECK(get_mxcsr() == before, "MXCSR leaked out of the coroutine (0x%x, was 0x%x)", get_mxcsr(), before);
    sb_coro_switch(&main_sp, fp_coro_sp);
    CHECK((seen_in_coro & 0x6000u) == 0x6000u, "coroutine lost its MXCSR rounding mode (0x%x)", seen_in_coro);
#endif

    // 3. callee-saved registers survive a coroutine that overwrites them
    check_callee_saved(top);

    // 4. time: round trips (two switches each) on a coroutine that yields forever
    long n = 2000000;
    finished = 0;
    coro_sp = sb_coro_init_stack(top, body, (void *)(intptr_t)(n + 10));
    resume_coro();
    double t0 = now_ns();
    for (long i = 0; i < n; i++) resume_coro();
    double t1 = now_ns();
    sb_coro_stack_free(base, 64 * 1024);

    printf("%s: %.2f ns per switch (%ld round trips)\n", failures ? "FAIL" : "PASS", (t1 - t0) / n / 2, n);
    return failures ? 1 : 0;
}
