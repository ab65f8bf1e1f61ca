/*
 * bench_sampler.c - what `memwall watch` costs, and how its peaks compare
 * with /usr/bin/time -v (GNU time's "Maximum resident set size").
 *
 * A benchmark, not a test: it prints markdown tables to stdout (progress to
 * stderr) and fails only when it cannot run the programs at all.
 *
 *   1. Sampler cost. `memwall watch --interval X --json -o F -- mw-touch
 *      --fork 2 64M --hold 5s` (3 processes holding 64 MiB each, sleeping)
 *      at X = 100ms, 10ms, 1ms; cost = watcher_cpu_seconds / wall_seconds,
 *      as % of one core, and samples taken against wall / interval.
 *   2. Agreement. Workloads of known size, each run under memwall watch and
 *      under /usr/bin/time -v, alternating; memwall's tree peak and root
 *      peak against time's max RSS and the touched size.
 *
 * usage: bench_sampler [--runs N] [--memwall PATH] [--touch PATH]
 *                      [--time PATH] [--quick]
 * memwall and mw-touch are found next to this binary's build directory
 * (BUILD/memwall, BUILD/tests/mw-touch, this binary being BUILD/bench/...).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define MAX_RUNS 100

static char g_dir[] = "/tmp/mw-bench-XXXXXX";
static int g_have_dir;

/* ---- small statistics --------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct { double med, min, max; int n; } stat3;

static stat3 stats(const double *v, int n)
{
    stat3 s = {0, 0, 0, n};
    if (n <= 0) return s;
    double t[MAX_RUNS];
    memcpy(t, v, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    s.min = t[0];
    s.max = t[n - 1];
    s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    return s;
}

/* "1.23 (1.10–1.40)" with the given precision; "–" when no data. */
static const char *fmt3(char *buf, size_t n, stat3 s, int prec)
{
    if (s.n <= 0) snprintf(buf, n, "–");
    else if (s.n == 1) snprintf(buf, n, "%.*f", prec, s.med);
    else snprintf(buf, n, "%.*f (%.*f–%.*f)", prec, s.med, prec, s.min, prec, s.max);
    return buf;
}

/* ---- running programs ---------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Run argv with stdout to /dev/null and stderr to err_path (or /dev/null);
 * returns the exit status as a shell would (128+N for signal N), -1 when it
 * could not be started. */
static int run(char *const argv[], const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int efd = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : null;
        if (null < 0 || efd < 0) _exit(126);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(efd, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) buf[len] = 0;
    return buf;
}

static void show_stderr(const char *what, const char *path)
{
    char *t = read_file(path);
    fprintf(stderr, "bench_sampler: %s failed%s%s", what, t && *t ? ":\n" : "\n", t ? t : "");
    free(t);
}

/* ---- memwall watch ------------------------------------------------------- */

typedef struct {
    double cpu_s, wall_s, samples, interval_s;
    double tree_peak, root_peak; /* bytes */
    double cgroup_peak;          /* bytes; -1 without --mem-limit */
    int nprocs;
} mw_run;

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* memwall watch -q --interval IVL [--mem-limit LIMIT] --json -o FILE -- CMD...;
 * 0 on success. quiet_fail: say nothing when it fails (a probe). */
static int run_memwall(const char *memwall, const char *ivl, const char *limit,
                       char *const cmd[], mw_run *out, int quiet_fail)
{
    char json[PATH_MAX], err[PATH_MAX];
    snprintf(json, sizeof json, "%s/watch.json", g_dir);
    snprintf(err, sizeof err, "%s/watch.err", g_dir);
    char *argv[64];
    int a = 0;
    argv[a++] = (char *)memwall;
    argv[a++] = "watch";
    argv[a++] = "--quiet";
    argv[a++] = "--interval";
    argv[a++] = (char *)ivl;
    if (limit) {
        argv[a++] = "--mem-limit";
        argv[a++] = (char *)limit;
    }
    argv[a++] = "--json";
    argv[a++] = "-o";
    argv[a++] = json;
    argv[a++] = "--";
    for (int i = 0; cmd[i] && a < 63; i++) argv[a++] = cmd[i];
    argv[a] = NULL;
    unlink(json);
    int rc = run(argv, err);
    if (rc != 0) {
        if (!quiet_fail) show_stderr("memwall watch", err);
        return -1;
    }
    char *text = read_file(json);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!doc) {
        fprintf(stderr, "bench_sampler: cannot read memwall's JSON (%s)\n", json);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->cpu_s = num(doc, "watcher_cpu_seconds");
    out->wall_s = num(doc, "wall_seconds");
    out->samples = num(doc, "samples");
    out->interval_s = num(doc, "interval_seconds");
    out->tree_peak = num(doc, "peak_rss_bytes");
    out->root_peak = -1;
    out->cgroup_peak = -1;
    const cJSON *cg = cJSON_GetObjectItemCaseSensitive(doc, "cgroup");
    if (cJSON_IsObject(cg)) out->cgroup_peak = num(cg, "peak_bytes");
    double root = num(doc, "pid");
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(doc, "processes");
    const cJSON *p;
    cJSON_ArrayForEach(p, procs) {
        out->nprocs++;
        if (num(p, "pid") == root) out->root_peak = num(p, "peak_rss_bytes");
    }
    cJSON_Delete(doc);
    if (out->cpu_s < 0 || out->wall_s <= 0 || out->tree_peak < 0) {
        fprintf(stderr, "bench_sampler: memwall's JSON lacks a figure (null?)\n");
        return -1;
    }
    return 0;
}

/* ---- /usr/bin/time -v ---------------------------------------------------- */

/* time -v CMD...; *maxrss_bytes from "Maximum resident set size (kbytes)". */
static int run_time(const char *time_bin, char *const cmd[], double *maxrss_bytes)
{
    char err[PATH_MAX];
    snprintf(err, sizeof err, "%s/time.err", g_dir);
    char *argv[64];
    int a = 0;
    argv[a++] = (char *)time_bin;
    argv[a++] = "-v";
    for (int i = 0; cmd[i] && a < 63; i++) argv[a++] = cmd[i];
    argv[a] = NULL;
    int rc = run(argv, err);
    char *text = read_file(err);
    const char *key = "Maximum resident set size (kbytes):";
    char *at = text ? strstr(text, key) : NULL;
    if (rc != 0 || !at) {
        show_stderr("/usr/bin/time -v", err);
        free(text);
        return -1;
    }
    *maxrss_bytes = strtod(at + strlen(key), NULL) * 1024.0;
    free(text);
    return 0;
}

/* ---- the two parts ------------------------------------------------------- */

typedef struct {
    const char *label;
    double seconds;
} interval;

static const interval INTERVALS[] = {{"100ms", 0.1}, {"10ms", 0.01}, {"1ms", 0.001}};
#define NIVL ((int)(sizeof INTERVALS / sizeof *INTERVALS))

static int bench_cost(const char *memwall, const char *touch, int runs, const char *hold)
{
    char *cmd[] = {(char *)touch, "--fork", "2", "--hold", (char *)hold, "64M", NULL};
    double pct[NIVL][MAX_RUNS], per[NIVL][MAX_RUNS], rate[NIVL][MAX_RUNS];
    double smp[NIVL][MAX_RUNS], wall[NIVL][MAX_RUNS], cpu[NIVL][MAX_RUNS];
    int n[NIVL] = {0};

    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < NIVL; k++) {
            int i = (k + r) % NIVL; /* rotate the order from round to round */
            mw_run m;
            fprintf(stderr, "cost: run %d/%d, interval %s\n", r + 1, runs, INTERVALS[i].label);
            if (run_memwall(memwall, INTERVALS[i].label, NULL, cmd, &m, 0) != 0) return -1;
            int j = n[i]++;
            cpu[i][j] = m.cpu_s * 1e3;
            wall[i][j] = m.wall_s;
            pct[i][j] = 100.0 * m.cpu_s / m.wall_s;
            smp[i][j] = m.samples;
            per[i][j] = m.samples > 0 ? m.cpu_s / m.samples * 1e6 : 0;
            rate[i][j] = m.samples / (m.wall_s / INTERVALS[i].seconds);
        }
    }

    printf("### Sampler cost\n\n");
    printf("Workload: `mw-touch --fork 2 --hold %s 64M` (3 processes, 64 MiB each, "
           "then sleeping); %d runs per interval, order rotated each round. "
           "Median (min–max).\n\n", hold, runs);
    printf("| interval | memwall CPU, %% of one core | watcher CPU ms | wall s | samples | "
           "samples ÷ (wall ÷ interval) | CPU µs per sample |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < NIVL; i++) {
        char b1[64], b2[64], b3[64], b4[64], b5[64], b6[64];
        printf("| %s | %s | %s | %s | %s | %s | %s |\n", INTERVALS[i].label,
               fmt3(b1, sizeof b1, stats(pct[i], n[i]), 3),
               fmt3(b2, sizeof b2, stats(cpu[i], n[i]), 1),
               fmt3(b3, sizeof b3, stats(wall[i], n[i]), 2),
               fmt3(b4, sizeof b4, stats(smp[i], n[i]), 0),
               fmt3(b5, sizeof b5, stats(rate[i], n[i]), 3),
               fmt3(b6, sizeof b6, stats(per[i], n[i]), 1));
    }
    printf("\n");
    return 0;
}

typedef struct {
    const char *label;
    const char *interval;
    const char *args[8];
    int procs;
    double tree_mib;    /* touched by the whole tree */
    double largest_mib; /* touched by the largest single process */
    int upper_bound;    /* processes do not all hold their memory at once:
                           tree_mib bounds the concurrent peak from above */
} workload;

static const workload WORKLOADS[] = {
    {"`mw-touch 256M`", "100ms", {"256M"}, 1, 256, 256, 0},
    {"`mw-touch 64M 64M 128M`", "100ms", {"64M", "64M", "128M"}, 1, 256, 256, 0},
    {"`mw-touch --fork 3 --hold 300ms 32M`", "100ms", {"--fork", "3", "--hold", "300ms", "32M"}, 4, 128, 32, 0},
    {"`mw-touch 32M` (short-lived)", "100ms", {"32M"}, 1, 32, 32, 0},
    {"`mw-touch --fork 3 16M` (short-lived tree)", "100ms", {"--fork", "3", "16M"}, 4, 64, 16, 1},
    {"`mw-touch --fork 3 16M` (short-lived tree)", "1ms", {"--fork", "3", "16M"}, 4, 64, 16, 1},
};
#define NWL ((int)(sizeof WORKLOADS / sizeof *WORKLOADS))

/* The kernel's own peak for the whole tree, from a memory cgroup that
 * memwall --mem-limit creates (needs root or a delegated cgroup). */
#define CG_LIMIT "4G"

static int bench_agree(const char *memwall, const char *touch, const char *time_bin, int runs)
{
    static double tree[NWL][MAX_RUNS], root[NWL][MAX_RUNS], tv[NWL][MAX_RUNS];
    static double seen[NWL][MAX_RUNS], cgp[NWL][MAX_RUNS];
    static double r_tree_known[NWL][MAX_RUNS], r_time_largest[NWL][MAX_RUNS];
    static double r_root_time[NWL][MAX_RUNS], r_tree_time[NWL][MAX_RUNS];
    static double r_tree_cg[NWL][MAX_RUNS];
    int nm[NWL] = {0}, nt[NWL] = {0}, nc[NWL] = {0};

    /* Can memwall make a cgroup here? One quiet probe decides. */
    int use_cg;
    {
        char *probe[] = {(char *)touch, "1M", NULL};
        mw_run m;
        use_cg = run_memwall(memwall, "100ms", CG_LIMIT, probe, &m, 1) == 0 && m.cgroup_peak > 0;
    }
    int arms = use_cg ? 3 : 2;

    for (int r = 0; r < runs; r++) {
        for (int w = 0; w < NWL; w++) {
            char *cmd[10];
            int a = 0;
            cmd[a++] = (char *)touch;
            for (int i = 0; WORKLOADS[w].args[i]; i++) cmd[a++] = (char *)WORKLOADS[w].args[i];
            cmd[a] = NULL;
            /* Rotate which tool goes first, so none always runs on a cache
             * and page allocator another has just warmed. */
            for (int t = 0; t < arms; t++) {
                int arm = (t + r + w) % arms; /* 0 memwall, 1 time -v, 2 cgroup */
                static const char *names[] = {"memwall", "time -v", "memwall --mem-limit"};
                fprintf(stderr, "agree: run %d/%d, %s under %s\n", r + 1, runs,
                        WORKLOADS[w].label, names[arm]);
                if (arm == 1) {
                    double b;
                    if (run_time(time_bin, cmd, &b) != 0) return -1;
                    tv[w][nt[w]++] = b / MIB;
                } else if (arm == 0) {
                    mw_run m;
                    if (run_memwall(memwall, WORKLOADS[w].interval, NULL, cmd, &m, 0) != 0) return -1;
                    int j = nm[w]++;
                    tree[w][j] = m.tree_peak / MIB;
                    root[w][j] = m.root_peak / MIB;
                    seen[w][j] = m.nprocs;
                } else {
                    mw_run m;
                    if (run_memwall(memwall, WORKLOADS[w].interval, CG_LIMIT, cmd, &m, 0) != 0) return -1;
                    cgp[w][nc[w]++] = m.cgroup_peak / MIB;
                }
            }
            /* Pair this round's runs for the per-round ratios. */
            int j = nm[w] - 1, k = nt[w] - 1;
            r_tree_known[w][j] = tree[w][j] / WORKLOADS[w].tree_mib;
            r_time_largest[w][k] = tv[w][k] / WORKLOADS[w].largest_mib;
            r_root_time[w][j] = root[w][j] / tv[w][k];
            r_tree_time[w][j] = tree[w][j] / tv[w][k];
            if (use_cg) r_tree_cg[w][j] = tree[w][j] / cgp[w][nc[w] - 1];
        }
    }

    printf("### Agreement with /usr/bin/time -v\n\n");
    printf("Each workload runs %d times under `memwall watch --interval I --json` and %d times "
           "under `/usr/bin/time -v`", runs, runs);
    if (use_cg)
        printf(", and %d times under `memwall watch --mem-limit %s` for the kernel's own "
               "peak of the tree (cgroup `memory.peak` or v1 `max_usage_in_bytes`)", runs, CG_LIMIT);
    printf(", rotating the order. MiB = 2^20 B; time's kbytes are KiB. "
           "\"touched\" is what mw-touch writes: the whole tree / the largest process "
           "(\"≤\": the processes do not all hold it at once, so it only bounds the tree's "
           "peak). Median (min–max).\n\n");
    printf("| workload | I | processes | memwall saw | touched MiB: tree / largest | "
           "memwall tree peak MiB | memwall root peak MiB | time -v max RSS MiB | cgroup peak MiB |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int w = 0; w < NWL; w++) {
        char b1[64], b2[64], b3[64], b4[64], b5[64];
        printf("| %s | %s | %d | %s | %s%.0f / %.0f | %s | %s | %s | %s |\n", WORKLOADS[w].label,
               WORKLOADS[w].interval, WORKLOADS[w].procs,
               fmt3(b4, sizeof b4, stats(seen[w], nm[w]), 0),
               WORKLOADS[w].upper_bound ? "≤ " : "", WORKLOADS[w].tree_mib, WORKLOADS[w].largest_mib,
               fmt3(b1, sizeof b1, stats(tree[w], nm[w]), 1),
               fmt3(b2, sizeof b2, stats(root[w], nm[w]), 1),
               fmt3(b3, sizeof b3, stats(tv[w], nt[w]), 1),
               fmt3(b5, sizeof b5, stats(cgp[w], nc[w]), 1));
    }
    printf("\nRatios (per round, then median (min–max)):\n\n");
    printf("| workload | I | memwall tree ÷ touched tree | memwall tree ÷ cgroup peak | "
           "time -v ÷ touched largest | memwall root ÷ time -v | memwall tree ÷ time -v |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int w = 0; w < NWL; w++) {
        char b1[64], b2[64], b3[64], b4[64], b5[64];
        printf("| %s | %s | %s | %s | %s | %s | %s |\n", WORKLOADS[w].label, WORKLOADS[w].interval,
               fmt3(b1, sizeof b1, stats(r_tree_known[w], nm[w]), 3),
               fmt3(b5, sizeof b5, stats(r_tree_cg[w], use_cg ? nm[w] : 0), 3),
               fmt3(b2, sizeof b2, stats(r_time_largest[w], nt[w]), 3),
               fmt3(b3, sizeof b3, stats(r_root_time[w], nm[w]), 3),
               fmt3(b4, sizeof b4, stats(r_tree_time[w], nm[w]), 3));
    }
    printf("\n");
    return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void cleanup(void)
{
    if (!g_have_dir) return;
    const char *names[] = {"watch.json", "watch.err", "time.err"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

static int executable(const char *p) { return p && access(p, X_OK) == 0; }

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_sampler [--runs N] [--memwall PATH] [--touch PATH] [--time PATH] [--quick]\n"
            "  --runs N        runs per configuration (default 5; 2 with --quick)\n"
            "  --memwall PATH  memwall binary (default BUILD/memwall)\n"
            "  --touch PATH    mw-touch binary (default BUILD/tests/mw-touch)\n"
            "  --time PATH     GNU time (default /usr/bin/time; Debian package 'time')\n"
            "  --quick         fewer runs and a 1 s hold, for a smoke test\n");
}

int main(int argc, char **argv)
{
    int runs = -1, quick = 0;
    const char *memwall = NULL, *touch = NULL, *time_bin = "/usr/bin/time";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--runs") && v) { runs = atoi(v); i++; }
        else if (!strcmp(a, "--memwall") && v) { memwall = v; i++; }
        else if (!strcmp(a, "--touch") && v) { touch = v; i++; }
        else if (!strcmp(a, "--time") && v) { time_bin = v; i++; }
        else if (!strcmp(a, "--quick")) quick = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (runs < 0) runs = quick ? 2 : 5;
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "bench_sampler: --runs must be 1..%d\n", MAX_RUNS);
        return 2;
    }

    /* Default paths: this binary is BUILD/bench/bench_sampler. */
    static char mw_def[PATH_MAX + 32], touch_def[PATH_MAX + 32];
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = 0;
        char *bench_dir = dirname(self);           /* BUILD/bench */
        char build[PATH_MAX];
        snprintf(build, sizeof build, "%s", bench_dir);
        char *build_dir = dirname(build);          /* BUILD */
        snprintf(mw_def, sizeof mw_def, "%s/memwall", build_dir);
        snprintf(touch_def, sizeof touch_def, "%s/tests/mw-touch", build_dir);
    }
    if (!memwall) memwall = mw_def;
    if (!touch) touch = touch_def;
    if (!executable(memwall) || !executable(touch)) {
        fprintf(stderr, "bench_sampler: need memwall (%s) and mw-touch (%s); "
                        "build them, or give --memwall and --touch\n", memwall, touch);
        return 2;
    }
    char mw_abs[PATH_MAX], touch_abs[PATH_MAX];
    if (realpath(memwall, mw_abs)) memwall = mw_abs;
    if (realpath(touch, touch_abs)) touch = touch_abs;
    int have_time = executable(time_bin);

    if (!mkdtemp(g_dir)) {
        perror("bench_sampler: mkdtemp");
        return 1;
    }
    g_have_dir = 1;
    atexit(cleanup);

    char date[64];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M %Z", localtime(&t));
    struct utsname u;
    uname(&u);
    printf("## memwall watch: sampler cost and agreement with /usr/bin/time -v\n\n");
    printf("- date: %s; host: %s %s %s, %ld online CPUs\n", date, u.sysname, u.release,
           u.machine, sysconf(_SC_NPROCESSORS_ONLN));
    printf("- memwall: %s; mw-touch: %s; time: %s\n", memwall, touch,
           have_time ? time_bin : "(missing)");
    printf("- runs per configuration: %d%s\n\n", runs, quick ? " (--quick)" : "");

    double t0 = now_s();
    if (bench_cost(memwall, touch, runs, quick ? "1s" : "5s") != 0) return 1;
    if (have_time) {
        if (bench_agree(memwall, touch, time_bin, runs) != 0) return 1;
    } else {
        printf("### Agreement with /usr/bin/time -v\n\nSkipped: %s not found "
               "(Debian: `apt-get install -y time`).\n\n", time_bin);
    }
    printf("Benchmark wall time: %.0f s.\n", now_s() - t0);
    return 0;
}
