// Stackful coroutine switch for x86_64 (System V ABI).
//
//   void sb_coro_switch(void **save_sp /* rdi */, void *load_sp /* rsi */);
//
// Saves what the ABI says a callee must preserve -- rbx, rbp, r12-r15, the MXCSR control bits
// and the x87 control word -- on the current stack, stores the stack pointer in *save_sp,
// loads load_sp and restores the same set from there. The return address is the one the
// `call` pushed, so `ret` continues where the other side last called sb_coro_switch.
// Frame (low to high): [mxcsr:4][x87 cw:2][pad:2] r15 r14 r13 r12 rbx rbp [return address]
#if defined(__x86_64__)
    .text
    .globl  sb_coro_switch
    .type   sb_coro_switch, @function
    .p2align 4
sb_coro_switch:
    .cfi_startproc
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .cfi_endproc
    .size   sb_coro_switch, .-sb_coro_switch

// First activation of a coroutine: sb_coro_init_stack leaves this as the return address and
// the entry function in r12, its argument in r13. The stack is 16-byte aligned here, as a call needs.
// The entry function must never return (it switches away for the last time instead).
    .globl  sb_coro_trampoline
    .type   sb_coro_trampoline, @function
    .p2align 4
sb_coro_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    xorl    %ebp, %ebp
    movq    %r13, %rdi
    callq   *%r12
    ud2
    .cfi_endproc
    .size   sb_coro_trampoline, .-sb_coro_trampoline
#endif
    .section .note.GNU-stack,"",@progbits
