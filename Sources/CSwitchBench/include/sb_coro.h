// Stackful coroutines: the assembly switch (switch_x86_64.S, switch_aarch64.S), stacks with a
// guard page, and glibc's ucontext for comparison. Thin: the Swift type Coroutine owns the memory.
#ifndef SB_CORO_H
#define SB_CORO_H

#include <stddef.h>
#include <stdint.h>

/// Saves the callee-saved registers and FP control state on the current stack, stores the stack
/// pointer in *save_sp, switches to load_sp and restores what a previous switch (or
/// sb_coro_init_stack) left there. Returns when something switches back to *save_sp.
void sb_coro_switch(void **save_sp, void *load_sp);

/// Prepares a fresh stack (top = highest address, 16-byte aligned) so that the first
/// sb_coro_switch to the returned stack pointer calls entry(arg). entry must never return.
/// x86_64: the coroutine starts with the caller's MXCSR and x87 control word.
void *sb_coro_init_stack(void *top, void (*entry)(void *), void *arg);

/// mmap()s usable bytes (rounded up to pages) plus one PROT_NONE guard page below them.
/// Returns the base of the whole mapping (the guard page) or NULL with errno set;
/// *top receives the highest usable address.
void *sb_coro_stack_alloc(size_t usable, void **top);
/// munmap()s a mapping from sb_coro_stack_alloc. Returns 0 or -errno.
int sb_coro_stack_free(void *base, size_t usable);

/// glibc ucontext: an opaque context of sb_uctx_size() bytes (16-byte aligned memory).
size_t sb_uctx_size(void);
/// getcontext + makecontext on [stack, stack+size): the first sb_uctx_swap to ctx calls fn(arg),
/// which must never return. Returns 0 or -errno.
int sb_uctx_make(void *ctx, void *stack, size_t size, void (*fn)(void *), void *arg);
/// swapcontext(from, to): saves into from, resumes to (glibc also saves and restores the
/// signal mask with rt_sigprocmask on every call). Returns 0 or -errno.
int sb_uctx_swap(void *from, void *to);

/// The id of a tracepoint from tracefs (e.g. "syscalls/sys_enter_rt_sigprocmask"), for
/// PERF_TYPE_TRACEPOINT; -errno when tracefs is not mounted or the event does not exist.
long sb_tracepoint_id(const char *event);

/// Atomic compare-and-swap (acquire-release): 1 when *addr was expected and is now desired, else 0.
int sb_cas_u32(uint32_t *addr, uint32_t expected, uint32_t desired);

#endif
