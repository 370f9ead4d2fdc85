// Stackful coroutine switch for AArch64 (AAPCS64).
//
//   void sb_coro_switch(void **save_sp /* x0 */, void *load_sp /* x1 */);
//
// Saves what the ABI says a callee must preserve -- x19-x28, the frame pointer x29, the link
// register x30 and the low 64 bits of v8-v15 (d8-d15) -- on the current stack, stores sp in
// *save_sp, loads load_sp and restores the same set; `ret` returns through the restored x30.
// FPCR (rounding mode, flush-to-zero) is not callee-saved in AAPCS64 -- code that changes it
// must restore it itself -- so it is not switched here (nor is FPSR, which only holds flags).
// Frame (low to high, 160 bytes): x19 x20 ... x28 x29 x30 d8 ... d15
#if defined(__aarch64__)
    .text
    .globl  sb_coro_switch
    .type   sb_coro_switch, %function
    .p2align 4
sb_coro_switch:
    sub     sp, sp, #160
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8,  d9,  [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mov     x9, sp
    str     x9, [x0]
    mov     sp, x1
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8,  d9,  [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #160
    ret
    .size   sb_coro_switch, .-sb_coro_switch

// First activation: sb_coro_init_stack puts this in x30, the entry function in x19 and its
// argument in x20. The entry function must never return.
    .globl  sb_coro_trampoline
    .type   sb_coro_trampoline, %function
    .p2align 4
sb_coro_trampoline:
    mov     x29, #0
    mov     x0, x20
    blr     x19
    brk     #0
    .size   sb_coro_trampoline, .-sb_coro_trampoline
#endif
    .section .note.GNU-stack,"",%progbits
