// The hardware context and mitigation bits of the `anatomy` harness: CPUID leaf 0xD, vector
// registers left in use, AMX permission, and the per-task indirect-branch barrier.
#include "CSwitchBench.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int has_osxsave(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c >> 27) & 1;
}

int sb_xsave_info(uint64_t *xcr0, uint32_t *standard_bytes, uint32_t *compacted_bytes) {
    if (!has_osxsave() || __get_cpuid_max(0, 0) < 0xD) return -1;
    unsigned a, b, c, d;
    *xcr0 = xgetbv0();
    __cpuid_count(0xD, 0, a, b, c, d);
    *standard_bytes = b;
    __cpuid_count(0xD, 1, a, b, c, d);
    *compacted_bytes = (a & (1u << 3)) ? b : 0;   // bit 3: XSAVES supported
    return 0;
}

int sb_avx512_usable(void) {
    if (!has_osxsave() || __get_cpuid_max(0, 0) < 7) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    if (!((b >> 16) & 1)) return 0;
    return (xgetbv0() & 0xE6) == 0xE6;   // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
}

int sb_amx_present(void) {
    if (__get_cpuid_max(0, 0) < 7) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    return (d >> 24) & 1;
}

int sb_amx_request(void) {
    // ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 (arch/x86/include/uapi/asm/prctl.h)
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0 ? 0 : -errno;
}

__attribute__((target("avx512f")))
static void dirty_zmm(void) {
    static const uint64_t ones[8] __attribute__((aligned(64))) = {1, 2, 3, 4, 5, 6, 7, 8};
    __asm__ volatile(
        "vmovdqa64 (%0), %%zmm0\n\t"  "vmovdqa64 %%zmm0, %%zmm1\n\t"  "vmovdqa64 %%zmm0, %%zmm2\n\t"
        "vmovdqa64 %%zmm0, %%zmm3\n\t"  "vmovdqa64 %%zmm0, %%zmm4\n\t"  "vmovdqa64 %%zmm0, %%zmm5\n\t"
        "vmovdqa64 %%zmm0, %%zmm6\n\t"  "vmovdqa64 %%zmm0, %%zmm7\n\t"  "vmovdqa64 %%zmm0, %%zmm8\n\t"
        "vmovdqa64 %%zmm0, %%zmm9\n\t"  "vmovdqa64 %%zmm0, %%zmm10\n\t" "vmovdqa64 %%zmm0, %%zmm11\n\t"
        "vmovdqa64 %%zmm0, %%zmm12\n\t" "vmovdqa64 %%zmm0, %%zmm13\n\t" "vmovdqa64 %%zmm0, %%zmm14\n\t"
        "vmovdqa64 %%zmm0, %%zmm15\n\t" "vmovdqa64 %%zmm0, %%zmm16\n\t" "vmovdqa64 %%zmm0, %%zmm17\n\t"
        "vmovdqa64 %%zmm0, %%zmm18\n\t" "vmovdqa64 %%zmm0, %%zmm19\n\t" "vmovdqa64 %%zmm0, %%zmm20\n\t"
        "vmovdqa64 %%zmm0, %%zmm21\n\t" "vmovdqa64 %%zmm0, %%zmm22\n\t" "vmovdqa64 %%zmm0, %%zmm23\n\t"
        "vmovdqa64 %%zmm0, %%zmm24\n\t" "vmovdqa64 %%zmm0, %%zmm25\n\t" "vmovdqa64 %%zmm0, %%zmm26\n\t"
        "vmovdqa64 %%zmm0, %%zmm27\n\t" "vmovdqa64 %%zmm0, %%zmm28\n\t" "vmovdqa64 %%zmm0, %%zmm29\n\t"
        "vmovdqa64 %%zmm0, %%zmm30\n\t" "vmovdqa64 %%zmm0, %%zmm31\n\t"
        : : "r"(ones) : "memory");
    // No vzeroupper: the upper halves stay in use on purpose.
}

static void dirty_tiles(void) {
    // A palette-1 configuration: 8 tiles of 16 rows × 64 bytes (the largest), then nonzero data.
    static uint8_t config[64] __attribute__((aligned(64)));
    static uint8_t data[16 * 64] __attribute__((aligned(64)));
    memset(config, 0, sizeof config);
    config[0] = 1;                                   // palette
    for (int t = 0; t < 8; t++) {
        config[16 + 2 * t] = 64;                     // bytes per row (colsb), little endian u16
        config[48 + t] = 16;                         // rows
    }
    for (int i = 0; i < (int)sizeof data; i++) data[i] = (uint8_t)(i | 1);
    __asm__ volatile(".byte 0xc4,0xe2,0x78,0x49,0x00" : : "a"(config) : "memory");   // ldtilecfg (%rax)
    // tileloadd (%rax,%rcx,1), tmmN for N = 0…7 (stride 64 in rcx)
    __asm__ volatile(
        ".byte 0xc4,0xe2,0x7b,0x4b,0x04,0x08\n\t"  ".byte 0xc4,0xe2,0x7b,0x4b,0x0c,0x08\n\t"
        ".byte 0xc4,0xe2,0x7b,0x4b,0x14,0x08\n\t"  ".byte 0xc4,0xe2,0x7b,0x4b,0x1c,0x08\n\t"
        ".byte 0xc4,0xe2,0x7b,0x4b,0x24,0x08\n\t"  ".byte 0xc4,0xe2,0x7b,0x4b,0x2c,0x08\n\t"
        ".byte 0xc4,0xe2,0x7b,0x4b,0x34,0x08\n\t"  ".byte 0xc4,0xe2,0x7b,0x4b,0x3c,0x08\n\t"
        : : "a"(data), "c"(64L) : "memory");
}

void sb_dirty_vectors(int kind) {
    if (kind == 1) dirty_zmm();
    else if (kind == 2) dirty_tiles();
}

#else
int sb_xsave_info(uint64_t *xcr0, uint32_t *standard_bytes, uint32_t *compacted_bytes) {
    (void)xcr0; (void)standard_bytes; (void)compacted_bytes;
    return -1;
}
int sb_avx512_usable(void) { return 0; }
int sb_amx_present(void) { return 0; }
int sb_amx_request(void) { return -ENOSYS; }
void sb_dirty_vectors(int kind) { (void)kind; }
#endif

int sb_force_indirect_branch_barrier(void) {
#if defined(PR_SET_SPECULATION_CTRL) && defined(PR_SPEC_INDIRECT_BRANCH)
    return prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_INDIRECT_BRANCH, PR_SPEC_FORCE_DISABLE, 0, 0) == 0 ? 0 : -errno;
#else
    return -ENOSYS;
#endif
}
