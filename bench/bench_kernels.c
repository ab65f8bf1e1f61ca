/*
 * bench_kernels.c - speed of the engine's matrix product (mw_k_matmul,
 * src/engine/kernels.h) per weight type and per instruction-set path, the
 * scalar reference being the peer measured in the same run.
 *
 * A benchmark, not a test: it prints a markdown table to stdout (progress to
 * stderr). One thread. For each weight type (F32, F16, BF16, Q8_0, Q4_0) and
 * each path this CPU has (scalar, avx2, avx512):
 *   - m = 1 (decode) at k = n = 2048: GFLOP/s (2 m n k / time) and GB/s of
 *     weight bytes streamed. The matrix (2.3 to 16 MiB) stays in L3 between
 *     calls, so this is the kernel's speed, not DRAM's.
 *   - m = 1 with 128 MiB of weights (k = 4096): GB/s from DRAM, against the
 *     machine's ~30 GB/s single-thread read (shared/bench/BASELINES.md A1).
 *   - m = 64 (prefill) at k = n = 2048: GFLOP/s.
 * x is prepared (mw_k_prepare_x) once, outside the timing, as the engine
 * does per layer input. Each cell: median (min–max) over the runs of the
 * per-call time, each run repeating calls for at least ~50 ms.
 *
 * usage: bench_kernels [--runs N] [--quick] [--no-dram]
 */
#include "memwall.h"
#include "engine/kernels.h"
#include "engine/kernels_isa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define alloc_or_die(n) alloc_or_die_for("bench_kernels", (n))

/* One problem: W [n, k] of type t and x [m, k] prepared for it. */
typedef struct problem {
    mw_dtype t;
    int64_t m, n, k;
    uint8_t *W;
    float *x, *y;
    void *xq;
    size_t w_bytes;
} problem;

static void problem_init(problem *p, mw_dtype t, int64_t m, int64_t n, int64_t k)
{
    p->t = t;
    p->m = m;
    p->n = n;
    p->k = k;
    const size_t row = (size_t)mw_dtype_bytes(t, (uint64_t)k);
    p->w_bytes = row * (size_t)n;
    p->W = alloc_or_die(p->w_bytes);
    p->x = alloc_or_die((size_t)(m * k) * sizeof(float));
    p->y = alloc_or_die((size_t)(m * n) * sizeof(float));
    float *tmp = alloc_or_die((size_t)k * sizeof(float));
    for (int64_t j = 0; j < n; j++) {
        for (int64_t l = 0; l < k; l++) tmp[l] = rnd();
        uint8_t *d = p->W + (size_t)j * row;
        switch (t) {
        case MW_DTYPE_F32: memcpy(d, tmp, (size_t)k * 4); break;
        case MW_DTYPE_F16: mw_k_row_to_f16(tmp, (uint16_t *)d, k); break;
        case MW_DTYPE_BF16: mw_k_row_to_bf16(tmp, (uint16_t *)d, k); break;
        case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(tmp, d, k); break;
        default: mw_k_quant_row_q4_0(tmp, d, k); break;
        }
    }
    free(tmp);
    for (int64_t i = 0; i < m * k; i++) p->x[i] = rnd() * 20.0f;
    p->xq = alloc_or_die(mw_k_prepare_x_bytes(t, m, k) + 1);
    mw_k_prepare_x(t, p->x, m, k, p->xq);
}

static void problem_free(problem *p)
{
    free(p->W);
    free(p->x);
    free(p->y);
    free(p->xq);
}

/* Seconds per call of mw_k_matmul: median (min-max) over runs. */
static stat3 time_matmul(problem *p, int runs, double min_run_s)
{
    double v[MAX_RUNS];
    mw_k_matmul(p->t, p->W, p->x, p->xq, p->y, p->m, p->n, p->k, 0, p->n); /* warm up */
    double t0 = now_s();
    mw_k_matmul(p->t, p->W, p->x, p->xq, p->y, p->m, p->n, p->k, 0, p->n);
    double one = now_s() - t0;
    long reps = one > 0 ? (long)(min_run_s / one) + 1 : 1000;
    for (int r = 0; r < runs; r++) {
        t0 = now_s();
        for (long i = 0; i < reps; i++)
            mw_k_matmul(p->t, p->W, p->x, p->xq, p->y, p->m, p->n, p->k, 0, p->n);
        v[r] = (now_s() - t0) / (double)reps;
    }
    return stats(v, runs);
}

/* "12.3 (11.0–13.1)": work / time, so the range flips (fastest run = max) */
static const char *cell(char *buf, size_t cap, stat3 s, double work, int prec)
{
    if (s.n <= 0) snprintf(buf, cap, "–");
    else if (s.n == 1) snprintf(buf, cap, "%.*f", prec, work / s.med);
    else snprintf(buf, cap, "%.*f (%.*f–%.*f)", prec, work / s.med, prec, work / s.max, prec, work / s.min);
    return buf;
}

int main(int argc, char **argv)
{
    int runs = 5, dram = 1;
    double min_run_s = 0.05;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--quick")) {
            runs = 3;
            min_run_s = 0.01;
        } else if (!strcmp(argv[i], "--no-dram")) {
            dram = 0;
        } else {
            fprintf(stderr, "usage: bench_kernels [--runs N] [--quick] [--no-dram]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS) runs = 5;

    static const mw_dtype types[] = {MW_DTYPE_F32, MW_DTYPE_F16, MW_DTYPE_BF16, MW_DTYPE_Q8_0,
                                     MW_DTYPE_Q4_0};
    const int64_t K = 2048, N = 2048, M_PREFILL = 64, K_DRAM = 4096;
    const double dram_bytes = 128.0 * 1024 * 1024;

    printf("## mw_k_matmul, 1 thread (best path here: %s)\n\n", mw_k_isa_name(mw_k_isa()));
    printf("k = n = %lld; DRAM column: k = %lld, 128 MiB of weights. Median (min–max) of %d runs.\n\n",
           (long long)K, (long long)K_DRAM, runs);
    printf("| type | path | m=1 GFLOP/s | m=1 GB/s (L3) | m=1 GB/s (DRAM) | m=%lld GFLOP/s | m=%lld vs scalar |\n",
           (long long)M_PREFILL, (long long)M_PREFILL);
    printf("|---|---|---|---|---|---|---|\n");
    fflush(stdout);

    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const mw_dtype t = types[ti];
        const char *tn = mw_dtype_get(t)->name;
        fprintf(stderr, "bench_kernels: %s: making the weights\n", tn);
        mw_k_force_isa(MW_K_ISA_AUTO);
        problem p1, pd, pm;
        problem_init(&p1, t, 1, N, K);
        const int64_t n_dram = (int64_t)(dram_bytes / (double)mw_dtype_bytes(t, (uint64_t)K_DRAM));
        if (dram) problem_init(&pd, t, 1, n_dram, K_DRAM);
        problem_init(&pm, t, M_PREFILL, N, K);
        double scalar_prefill = 0;
        for (int isa = MW_K_ISA_SCALAR; isa < MW_K_ISA_COUNT; isa++) {
            if (mw_k_force_isa(isa) != 0) continue;
            const int slow = isa == MW_K_ISA_SCALAR;
            const int r = slow ? (runs < 3 ? runs : 3) : runs;
            fprintf(stderr, "bench_kernels: %s %s\n", tn, mw_k_isa_name(isa));
            char a[64], b[64], c[64] = "–", d[64];

            stat3 s1 = time_matmul(&p1, r, min_run_s);
            cell(a, sizeof a, s1, 2.0 * (double)N * (double)K * 1e-9, 2);
            cell(b, sizeof b, s1, (double)p1.w_bytes * 1e-9, 1);
            if (dram) {
                stat3 s2 = time_matmul(&pd, r, slow ? 0.0 : min_run_s * 4);
                cell(c, sizeof c, s2, (double)pd.w_bytes * 1e-9, 1);
            }
            stat3 s3 = time_matmul(&pm, r, slow ? 0.0 : min_run_s);
            cell(d, sizeof d, s3, 2.0 * (double)M_PREFILL * (double)N * (double)K * 1e-9, 2);
            if (slow) scalar_prefill = s3.med;

            char ratio[32] = "1.0×";
            if (!slow && scalar_prefill > 0) snprintf(ratio, sizeof ratio, "%.1f×", scalar_prefill / s3.med);
            printf("| %s | %s | %s | %s | %s | %s | %s |\n", tn, mw_k_isa_name(isa), a, b, c, d, ratio);
            fflush(stdout);
        }
        problem_free(&p1);
        if (dram) problem_free(&pd);
        problem_free(&pm);
    }
    mw_k_force_isa(MW_K_ISA_AUTO);
    printf("\nGB/s counts weight bytes only (x and y are small at m = 1). GFLOP/s = 2·m·n·k / time.\n");
    return 0;
}
