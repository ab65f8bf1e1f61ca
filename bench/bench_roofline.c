/*
 * bench_roofline.c - the peers that `memwall roofline` (issue 11) is judged
 * against, measured in the same run:
 *
 *   1. STREAM-style loops written here (copy, scale, add, triad, and a pure
 *      read: sum) over arrays of at least 4x the last-level cache (largest
 *      cache level in /sys/devices/system/cpu/cpu0/cache), on 1 thread and on
 *      all online CPUs (pthreads, each thread owns a contiguous slice it
 *      first-touched). Bytes are counted the STREAM way: copy and scale 16,
 *      add and triad 24, sum 8 bytes per double element. The write-allocate
 *      read of the destination (plain stores, no streaming stores) is NOT
 *      counted, as in STREAM; the traffic the memory actually moves for copy
 *      and scale is 24 B/element, for add and triad 32.
 *   2. OpenBLAS sgemm (cblas_sgemm, n x n x n, default n = 2048) on 1 thread
 *      and on all online CPUs, GFLOP/s = 2 n^3 / time. OpenBLAS picks its
 *      kernels when the library is loaded, from OPENBLAS_CORETYPE, so each
 *      setting (unset, and Haswell) runs in a child: this binary re-executed
 *      with --sgemm-child and the environment changed before exec.
 *   3. `MEMWALL roofline --json`: its dram_read_bytes_per_second against the
 *      all-thread read (sum) and triad figures, its peak_flops_f32 against
 *      the all-thread sgemm with OPENBLAS_CORETYPE unset, as ratios. When
 *      memwall has no roofline command yet, the peers are printed alone.
 *
 * Each figure: best (STREAM's convention: the fastest repetition) and median
 * (min-max) over the repetitions. Markdown to stdout, progress to stderr.
 *
 * usage: bench_roofline [--reps N] [--n N] [--memwall PATH] [--memwall-arg ARG]...
 *                       [--no-memwall] [--quick]
 * Defaults: 21 repetitions of each loop (plus one dropped), 11 sgemm calls;
 * about 15 s on 2 vCPUs.
 */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 64
#define MAX_THREADS 256
#define MAX_MW_ARGS 16

typedef double v2d __attribute__((vector_size(16)));

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* rates: best = max, median, min */
/* oncpu: repetitions in which every thread was on a CPU for at least 90% of
 * its wall time (thread or process CPU time against the clock): the others
 * shared a CPU with some other process, and their figures are low. */
typedef struct { double best, med, min; int n, oncpu; } rate3;

static rate3 rates(double *v, int n)
{
    rate3 s = {0, 0, 0, n, -1};
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.best = v[n - 1];
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

/* ---- the machine ----------------------------------------------------------- */

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "(unknown)");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *c = strchr(line, ':');
        if (!c) continue;
        c++;
        while (*c == ' ' || *c == '\t') c++;
        c[strcspn(c, "\n")] = 0;
        snprintf(buf, cap, "%s", c);
        break;
    }
    rewind(f);
    int fam = -1, mod = -1;
    while (fgets(line, sizeof line, f) && (fam < 0 || mod < 0)) {
        char *c = strchr(line, ':');
        if (!c) continue;
        if (!strncmp(line, "cpu family", 10)) fam = atoi(c + 1);
        else if (!strncmp(line, "model\t", 6)) mod = atoi(c + 1);
    }
    fclose(f);
    size_t l = strlen(buf);
    if (fam >= 0 && mod >= 0 && l < cap) snprintf(buf + l, cap - l, " (family %d, model %d)", fam, mod);
}

static int read_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (!ok) return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

/* The largest data/unified cache of cpu0 in sysfs: bytes, its level and the
 * CPUs sharing it. 0 when sysfs says nothing. */
static uint64_t llc_bytes(int *level, char *shared, size_t cap)
{
    uint64_t best = 0;
    *level = 0;
    snprintf(shared, cap, "?");
    for (int i = 0; i < 16; i++) {
        char p[128], t[64], s[64], l[16], sh[128];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (read_line(p, t, sizeof t) != 0) break;
        if (!strcmp(t, "Instruction")) continue;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (read_line(p, s, sizeof s) != 0) continue;
        char *end;
        uint64_t v = strtoull(s, &end, 10);
        if (*end == 'K') v <<= 10;
        else if (*end == 'M') v <<= 20;
        else if (*end == 'G') v <<= 30;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (read_line(p, l, sizeof l) != 0) continue;
        if (v > best) {
            best = v;
            *level = atoi(l);
            snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
            if (read_line(p, sh, sizeof sh) == 0) snprintf(shared, cap, "%s", sh);
        }
    }
    return best;
}

/* ---- STREAM-style loops ---------------------------------------------------- */

enum { K_COPY, K_SCALE, K_ADD, K_TRIAD, K_SUM, K_COUNT };
static const char *const K_NAME[K_COUNT] = {"copy", "scale", "add", "triad", "read (sum)"};
static const int K_BYTES[K_COUNT] = {16, 16, 24, 24, 8}; /* per double, STREAM's count */

typedef struct {
    v2d *a, *b, *c;  /* whole arrays */
    size_t nv;       /* elements of v2d in each array */
    int nthreads;
    int reps;
    pthread_barrier_t bar;
    double sec[K_COUNT][MAX_REPS];
    unsigned char off_cpu[K_COUNT][MAX_REPS][MAX_THREADS];
    double sink[MAX_THREADS];
} stream_job;

typedef struct { stream_job *j; int id; } stream_arg;

static double sum_slice(const v2d *restrict a, size_t lo, size_t hi)
{
    v2d s0 = {0, 0}, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
        s4 += a[i + 4];
        s5 += a[i + 5];
        s6 += a[i + 6];
        s7 += a[i + 7];
    }
    for (; i < hi; i++) s0 += a[i];
    v2d s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    return s[0] + s[1];
}

static void *stream_thread(void *p)
{
    stream_arg *arg = p;
    stream_job *j = arg->j;
    const size_t per = (j->nv + (size_t)j->nthreads - 1) / (size_t)j->nthreads;
    const size_t lo = per * (size_t)arg->id;
    const size_t hi = lo + per < j->nv ? lo + per : j->nv;
    v2d *restrict a = j->a, *restrict b = j->b, *restrict c = j->c;
    const v2d one = {1.0, 1.0}, two = {2.0, 2.0}, zero = {0.0, 0.0}, q = {3.0, 3.0};
    /* first touch by the thread that will use the slice */
    for (size_t i = lo; i < hi; i++) {
        a[i] = one;
        b[i] = two;
        c[i] = zero;
    }
    double acc = 0;
    for (int r = 0; r < j->reps; r++) {
        for (int k = 0; k < K_COUNT; k++) {
            pthread_barrier_wait(&j->bar);
            double t0 = now_s(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            switch (k) {
            case K_COPY: for (size_t i = lo; i < hi; i++) c[i] = a[i]; break;
            case K_SCALE: for (size_t i = lo; i < hi; i++) b[i] = q * c[i]; break;
            case K_ADD: for (size_t i = lo; i < hi; i++) c[i] = a[i] + b[i]; break;
            case K_TRIAD: for (size_t i = lo; i < hi; i++) a[i] = b[i] + q * c[i]; break;
            default: acc += sum_slice(a, lo, hi); break;
            }
            double t1 = now_s(), c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            j->off_cpu[k][r][arg->id] = t1 > t0 && c1 - c0 < 0.9 * (t1 - t0);
            pthread_barrier_wait(&j->bar);
            if (arg->id == 0) j->sec[k][r] = now_s() - t0;
        }
    }
    j->sink[arg->id] = acc;
    return NULL;
}

/* GB/s per kernel over reps; -1 on failure */
static int run_stream(v2d *a, v2d *b, v2d *c, size_t nv, int nthreads, int reps,
                      rate3 out[K_COUNT], double *check)
{
    stream_job *j = calloc(1, sizeof *j);
    if (!j) return -1;
    j->a = a;
    j->b = b;
    j->c = c;
    j->nv = nv;
    j->nthreads = nthreads;
    j->reps = reps;
    pthread_barrier_init(&j->bar, NULL, (unsigned)nthreads);
    pthread_t th[MAX_THREADS];
    stream_arg args[MAX_THREADS];
    int started = 0, rc = 0;
    for (int t = 1; t < nthreads; t++) {
        args[t].j = j;
        args[t].id = t;
        if (pthread_create(&th[t], NULL, stream_thread, &args[t]) != 0) {
            fprintf(stderr, "bench_roofline: pthread_create failed\n");
            exit(1); /* the barrier would wait for ever */
        }
        started++;
    }
    args[0].j = j;
    args[0].id = 0;
    stream_thread(&args[0]);
    for (int t = 1; t <= started; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&j->bar);
    const double elems = (double)nv * 2;
    double s = 0;
    for (int t = 0; t < nthreads; t++) s += j->sink[t];
    *check = s;
    for (int k = 0; k < K_COUNT; k++) {
        double v[MAX_REPS];
        /* the first repetition also faults the pages in: dropped, as STREAM does */
        int n = 0, on = 0;
        for (int r = reps > 1 ? 1 : 0; r < reps; r++) {
            v[n++] = j->sec[k][r] > 0 ? (double)K_BYTES[k] * elems / j->sec[k][r] * 1e-9 : 0;
            int off = 0;
            for (int t = 0; t < nthreads; t++) off |= j->off_cpu[k][r][t];
            on += !off;
        }
        out[k] = rates(v, n);
        out[k].oncpu = on;
    }
    free(j);
    return rc;
}

/* ---- sgemm (in a child, so that OPENBLAS_CORETYPE applies) ----------------- */

static uint64_t rng = 88172645463325252ull;

static float rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1p-53 * 2.0 - 1.0);
}

/* Prints "corename\n" then per thread count "T best med min n\n" (GFLOP/s). */
static int sgemm_child(int n, int reps, int all)
{
    size_t nn = (size_t)n * (size_t)n;
    float *A = aligned_alloc(64, nn * sizeof(float));
    float *B = aligned_alloc(64, nn * sizeof(float));
    float *C = aligned_alloc(64, nn * sizeof(float));
    if (!A || !B || !C) {
        fprintf(stderr, "bench_roofline: out of memory for sgemm n = %d\n", n);
        return 1;
    }
    for (size_t i = 0; i < nn; i++) {
        A[i] = rnd();
        B[i] = rnd();
        C[i] = 0;
    }
    const char *core = openblas_get_corename();
    printf("%s\n", core ? core : "?");
    const int counts[2] = {1, all};
    for (int ci = 0; ci < (all > 1 ? 2 : 1); ci++) {
        openblas_set_num_threads(counts[ci]);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
        double v[MAX_REPS];
        int on = 0;
        for (int r = 0; r < reps; r++) {
            double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            double t0 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n, 0.0f, C,
                        n);
            double dt = now_s() - t0;
            on += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 0.9 * dt * counts[ci];
            v[r] = dt > 0 ? 2.0 * (double)n * (double)n * (double)n / dt * 1e-9 : 0;
        }
        rate3 s = rates(v, reps);
        printf("%d %.3f %.3f %.3f %d %d\n", counts[ci], s.best, s.med, s.min, s.n, on);
    }
    volatile float keep = C[nn / 2];
    (void)keep;
    free(A);
    free(B);
    free(C);
    return 0;
}

typedef struct { char core[64]; int threads[2]; rate3 r[2]; int n; } sgemm_res;

/* Re-exec self with --sgemm-child; coretype NULL = unset. 0 on success. */
static int run_sgemm(const char *self, const char *coretype, int n, int reps, int all,
                     sgemm_res *out)
{
    memset(out, 0, sizeof *out);
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(pfd[0]);
        dup2(pfd[1], STDOUT_FILENO);
        if (coretype) setenv("OPENBLAS_CORETYPE", coretype, 1);
        else unsetenv("OPENBLAS_CORETYPE");
        unsetenv("OPENBLAS_NUM_THREADS");
        unsetenv("OMP_NUM_THREADS");
        char ns[32], rs[32], as[32];
        snprintf(ns, sizeof ns, "%d", n);
        snprintf(rs, sizeof rs, "%d", reps);
        snprintf(as, sizeof as, "%d", all);
        char *argv[] = {(char *)self, "--sgemm-child", ns, rs, as, NULL};
        execv(self, argv);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    char line[256];
    if (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        snprintf(out->core, sizeof out->core, "%.63s", line);
        while (out->n < 2 && fgets(line, sizeof line, f)) {
            rate3 *r = &out->r[out->n];
            if (sscanf(line, "%d %lf %lf %lf %d %d", &out->threads[out->n], &r->best, &r->med, &r->min,
                       &r->n, &r->oncpu) == 6)
                out->n++;
        }
    }
    if (f) fclose(f);
    else close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && out->n > 0 ? 0 : -1;
}

/* ---- memwall roofline --json ----------------------------------------------- */

static char *slurp(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while (buf && (got = read(fd, buf + len, cap - len - 1)) != 0) {
        if (got < 0) {
            if (errno == EINTR) continue;
            break;
        }
        len += (size_t)got;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    if (buf) buf[len] = 0;
    return buf;
}

/* Runs memwall; stdout returned (malloc), stderr to err_path; *rc the exit
 * status (128+N for a signal, -1 not started). */
static char *run_memwall(char *const argv[], const char *err_path, int *rc, double *wall)
{
    *rc = -1;
    int pfd[2];
    if (pipe(pfd) != 0) return NULL;
    fflush(NULL);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) return NULL;
    if (pid == 0) {
        close(pfd[0]);
        int null = open("/dev/null", O_RDONLY);
        int efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (null < 0 || efd < 0) _exit(126);
        dup2(null, STDIN_FILENO);
        dup2(pfd[1], STDOUT_FILENO);
        dup2(efd, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    char *out = slurp(pfd[0]);
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return out;
    *wall = now_s() - t0;
    *rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return out;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_roofline [--reps N] [--n N] [--memwall PATH] [--memwall-arg ARG]...\n"
            "                      [--no-memwall] [--quick]\n"
            "  --reps N          repetitions per figure (default 21 for the loops, 11 for sgemm)\n"
            "  --n N             sgemm matrix side (default 2048)\n"
            "  --memwall PATH    memwall binary (default BUILD/memwall, this being BUILD/bench/...)\n"
            "  --memwall-arg A   one more argument after `roofline --json` (repeatable)\n"
            "  --no-memwall      the peers alone\n"
            "  --quick           3 repetitions, sgemm n = 1024: a smoke test\n");
}

static void print_rate(const char *label, rate3 s, int prec)
{
    printf("| %s | %.*f | %.*f (%.*f–%.*f) | %d of %d |", label, prec, s.best, prec, s.med, prec, s.min,
           prec, s.best, s.oncpu, s.n);
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--sgemm-child"))
        return sgemm_child(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));

    int reps = -1, n = -1, quick = 0, use_mw = 1, n_mw_args = 0, array_mib = 0;
    const char *memwall = NULL, *mw_args[MAX_MW_ARGS];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--reps") && v) { reps = atoi(v); i++; }
        else if (!strcmp(a, "--array-mib") && v) { array_mib = atoi(v); i++; }
        else if (!strcmp(a, "--n") && v) { n = atoi(v); i++; }
        else if (!strcmp(a, "--memwall") && v) { memwall = v; i++; }
        else if (!strcmp(a, "--memwall-arg") && v && n_mw_args < MAX_MW_ARGS) { mw_args[n_mw_args++] = v; i++; }
        else if (!strcmp(a, "--no-memwall")) use_mw = 0;
        else if (!strcmp(a, "--quick")) quick = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (reps != -1 && (reps < 2 || reps > MAX_REPS - 1)) {
        fprintf(stderr, "bench_roofline: --reps must be 2..%d\n", MAX_REPS - 1);
        return 2;
    }
    const int sreps = reps > 0 ? reps + 1 : quick ? 4 : 22; /* +1: the first is dropped */
    const int greps = reps > 0 ? reps : quick ? 3 : 11;
    if (n < 0) n = quick ? 1024 : 2048;
    if (n < 64 || n > 16384) {
        fprintf(stderr, "bench_roofline: --n must be 64..16384\n");
        return 2;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int all = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : (int)ncpu;

    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        fprintf(stderr, "bench_roofline: cannot read /proc/self/exe\n");
        return 1;
    }
    self[len] = 0;
    static char mw_def[PATH_MAX + 32];
    {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", self);
        char *bench_dir = dirname(tmp); /* BUILD/bench */
        char tmp2[PATH_MAX];
        snprintf(tmp2, sizeof tmp2, "%s", bench_dir);
        snprintf(mw_def, sizeof mw_def, "%s/memwall", dirname(tmp2));
    }
    if (!memwall) memwall = mw_def;

    char model[256], shared[128];
    cpu_model(model, sizeof model);
    int llc_level;
    uint64_t llc = llc_bytes(&llc_level, shared, sizeof shared);
    const uint64_t llc_used = llc ? llc : 64ull << 20;
    /* each array 4x the LLC, at least 64 MiB, a multiple of 16 doubles per thread */
    uint64_t arr = llc_used * 4 < (64ull << 20) ? 64ull << 20 : llc_used * 4;
    if (array_mib > 0) arr = (uint64_t)array_mib << 20;
    size_t nv = (size_t)(arr / sizeof(v2d));
    nv -= nv % ((size_t)all * 8);
    arr = nv * sizeof(v2d);

    char date[64];
    time_t tt = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&tt));
    struct utsname u;
    uname(&u);
    const char *ct_env = getenv("OPENBLAS_CORETYPE");
    printf("## Roofline peers: STREAM-style loops and OpenBLAS sgemm\n\n");
    printf("- date: %s; host: %s %s %s, %d online CPUs\n", date, u.sysname, u.release, u.machine, all);
    printf("- CPU: %s\n", model);
    if (llc)
        printf("- last-level cache (sysfs, cpu0): L%d, %.0f MiB, shared by CPUs %s; each array "
               "%.0f MiB (%.1f× it), 3 arrays\n",
               llc_level, (double)llc / 1048576.0, shared, (double)arr / 1048576.0,
               (double)arr / (double)llc_used);
    else
        printf("- last-level cache: none found in sysfs, 64 MiB assumed; each array %.0f MiB, "
               "3 arrays\n", (double)arr / 1048576.0);
    printf("- loops: %d repetitions, the first dropped; sgemm: n = %d, %d repetitions after one "
           "warm-up call\n",
           sreps, n, greps);
    char load[128] = "?";
    read_line("/proc/loadavg", load, sizeof load);
    printf("- OPENBLAS_CORETYPE in the environment: %s (each sgemm row sets its own)\n", ct_env ? ct_env : "(unset)");
    printf("- load average before the run (/proc/loadavg): %s\n\n", load);

    double t_start = now_s();

    /* 1. loops */
    v2d *a = aligned_alloc(64, arr), *b = aligned_alloc(64, arr), *c = aligned_alloc(64, arr);
    if (!a || !b || !c) {
        fprintf(stderr, "bench_roofline: cannot allocate 3 × %.0f MiB\n", (double)arr / 1048576.0);
        return 1;
    }
    rate3 st[2][K_COUNT];
    int tcounts[2] = {1, all}, ntc = all > 1 ? 2 : 1;
    for (int ti = 0; ti < ntc; ti++) {
        fprintf(stderr, "bench_roofline: loops on %d thread%s\n", tcounts[ti], tcounts[ti] > 1 ? "s" : "");
        double check = 0;
        run_stream(a, b, c, nv, tcounts[ti], sreps, st[ti], &check);
        if (check != check) fprintf(stderr, "bench_roofline: sum is NaN\n");
    }
    free(a);
    free(b);
    free(c);

    printf("### STREAM-style loops (GB/s, 10^9 bytes/s)\n\n");
    printf("Bytes per element as STREAM counts them: copy, scale 16; add, triad 24; sum 8 (write-"
           "allocate reads not counted: with them copy and scale move 24, add and triad 32). "
           "Last column: repetitions in which every thread had a CPU for at least 90%% of its "
           "time (thread CPU time against the clock; for sgemm, process CPU time against wall × "
           "threads); in the others another process shared a CPU.\n\n");
    printf("| kernel | threads | best | median (min–max) | reps ≥ 90%% on CPU |\n|---|---|---|---|---|\n");
    for (int ti = 0; ti < ntc; ti++)
        for (int k = 0; k < K_COUNT; k++) {
            char l[64];
            snprintf(l, sizeof l, "%s | %d", K_NAME[k], tcounts[ti]);
            print_rate(l, st[ti][k], 1);
            printf("\n");
        }
    printf("\n");
    fflush(stdout);

    /* 2. sgemm */
    static const char *const coretypes[] = {NULL, "Haswell"};
    sgemm_res sg[2];
    int sg_ok[2];
    for (int ci = 0; ci < 2; ci++) {
        fprintf(stderr, "bench_roofline: sgemm, OPENBLAS_CORETYPE=%s\n", coretypes[ci] ? coretypes[ci] : "(unset)");
        sg_ok[ci] = run_sgemm(self, coretypes[ci], n, greps, all, &sg[ci]) == 0;
    }
    printf("### OpenBLAS sgemm, n = %d (GFLOP/s = 2n³/t)\n\n", n);
    printf("| OPENBLAS_CORETYPE | kernel OpenBLAS chose | threads | best | median (min–max) | reps ≥ 90%% on CPU |\n"
           "|---|---|---|---|---|---|\n");
    for (int ci = 0; ci < 2; ci++) {
        if (!sg_ok[ci]) {
            printf("| %s | – | – | failed | – | – |\n", coretypes[ci] ? coretypes[ci] : "unset");
            continue;
        }
        for (int t = 0; t < sg[ci].n; t++) {
            char l[160];
            snprintf(l, sizeof l, "%.16s | %.63s | %d", coretypes[ci] ? coretypes[ci] : "unset", sg[ci].core,
                     sg[ci].threads[t]);
            print_rate(l, sg[ci].r[t], 1);
            printf("\n");
        }
    }
    printf("\n");
    fflush(stdout);

    /* 3. memwall roofline --json */
    const rate3 *rd_all = &st[ntc - 1][K_SUM], *tr_all = &st[ntc - 1][K_TRIAD];
    const rate3 *gemm_all = sg_ok[0] ? &sg[0].r[sg[0].n - 1] : NULL;
    printf("### Comparison with `memwall roofline --json`\n\n");
    if (!use_mw) {
        printf("Not run (--no-memwall).\n\n");
    } else if (access(memwall, X_OK) != 0) {
        printf("Pending: no memwall at %s (give --memwall PATH).\n\n", memwall);
    } else {
        char *mwargv[4 + MAX_MW_ARGS];
        int m = 0;
        mwargv[m++] = (char *)memwall;
        mwargv[m++] = "roofline";
        mwargv[m++] = "--json";
        for (int i = 0; i < n_mw_args; i++) mwargv[m++] = (char *)mw_args[i];
        mwargv[m] = NULL;
        char errp[] = "/tmp/bench_roofline.XXXXXX";
        int efd = mkstemp(errp);
        if (efd >= 0) close(efd);
        fprintf(stderr, "bench_roofline: %s roofline --json\n", memwall);
        int rc = -1;
        double wall = 0;
        char *out = efd >= 0 ? run_memwall(mwargv, errp, &rc, &wall) : NULL;
        char errtxt[512] = "";
        FILE *ef = efd >= 0 ? fopen(errp, "r") : NULL;
        if (ef) {
            size_t got = fread(errtxt, 1, sizeof errtxt - 1, ef);
            errtxt[got] = 0;
            errtxt[strcspn(errtxt, "\n")] = 0;
            fclose(ef);
        }
        if (efd >= 0) unlink(errp);
        cJSON *doc = out && rc == 0 ? cJSON_Parse(out) : NULL;
        free(out);
        double dram = doc ? num(doc, "dram_read_bytes_per_second") : -1;
        double peak = doc ? num(doc, "peak_flops_f32") : -1;
        /* memwall's own median of its DRAM read repetitions (the last
         * level's read on all threads): against the peer's median, the
         * comparison a shared host's bursts do not swing */
        double dram_med = -1;
        const cJSON *lv = doc ? cJSON_GetObjectItemCaseSensitive(doc, "levels") : NULL;
        int nlv = cJSON_IsArray(lv) ? cJSON_GetArraySize(lv) : 0;
        if (nlv > 0) {
            const cJSON *rd = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(lv, nlv - 1), "read");
            const cJSON *at = rd ? cJSON_GetObjectItemCaseSensitive(rd, "all_threads") : NULL;
            if (at) dram_med = num(at, "median");
        }
        if (rc == 2 && (strstr(errtxt, "unknown command") || strstr(errtxt, "no command"))) {
            printf("Pending: this memwall (%s) has no `roofline` command yet (exit 2: \"%s\"). "
                   "The peers' figures above stand alone.\n\n", memwall, errtxt);
        } else if (!doc) {
            printf("Pending: `%s roofline --json` exited %d without JSON (\"%s\").\n\n", memwall, rc, errtxt);
        } else {
            printf("`%s roofline --json", memwall);
            for (int i = 0; i < n_mw_args; i++) printf(" %s", mw_args[i]);
            printf("` ran for %.1f s in this run. Ratio = memwall ÷ peer (target 0.90–1.10).\n\n", wall);
            printf("| memwall figure | value | peer | peer best | ratio to best | peer median | ratio to median |\n"
                   "|---|---|---|---|---|---|---|\n");
            if (dram > 0) {
                printf("| dram_read_bytes_per_second | %.1f GB/s | read (sum), %d threads | %.1f | %.2f | %.1f | %.2f |\n",
                       dram * 1e-9, all, rd_all->best, dram * 1e-9 / rd_all->best, rd_all->med,
                       dram * 1e-9 / rd_all->med);
                printf("| dram_read_bytes_per_second | %.1f GB/s | triad, %d threads | %.1f | %.2f | %.1f | %.2f |\n",
                       dram * 1e-9, all, tr_all->best, dram * 1e-9 / tr_all->best, tr_all->med,
                       dram * 1e-9 / tr_all->med);
                if (dram_med > 0)
                    printf("| DRAM read, memwall's median | %.1f GB/s | read (sum), %d threads | – | – | %.1f | %.2f |\n",
                           dram_med * 1e-9, all, rd_all->med, dram_med * 1e-9 / rd_all->med);
            } else {
                printf("| dram_read_bytes_per_second | missing or null | – | – | – | – | – |\n");
            }
            if (peak > 0 && gemm_all) {
                printf("| peak_flops_f32 | %.1f GFLOP/s | sgemm (CORETYPE unset), %d threads | %.1f | %.2f | %.1f | %.2f |\n",
                       peak * 1e-9, sg[0].threads[sg[0].n - 1], gemm_all->best, peak * 1e-9 / gemm_all->best,
                       gemm_all->med, peak * 1e-9 / gemm_all->med);
            } else {
                printf("| peak_flops_f32 | %s | – | – | – | – | – |\n",
                       peak > 0 ? "no sgemm figure" : "missing or null");
            }
            printf("\n");
            cJSON_Delete(doc);
        }
    }
    char load_end[128] = "?";
    read_line("/proc/loadavg", load_end, sizeof load_end);
    printf("Benchmark wall time: %.0f s. Load average after: %s (this benchmark's own threads "
           "count in it; well above %d, other processes shared the CPUs and the all-thread "
           "figures are low).\n",
           now_s() - t_start, load_end, all);
    return 0;
}
