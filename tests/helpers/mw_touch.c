/*
 * mw_touch.c - a workload with known memory, for memwall's tests and
 * benchmarks.
 *
 * usage: mw-touch [OPTIONS] SIZE...
 *   Each SIZE (bytes, or K/M/G powers of 1024) is one step: that much
 *   anonymous memory is mapped and every page written, then --step-delay.
 *   --fork N         N children run the same steps beside the parent
 *   --depth D        a chain: the process forks a child, which forks a
 *                    grandchild ... D levels deep; each runs the steps
 *   --shmem SIZE     also map and touch SIZE of shared memory (memfd)
 *   --file PATH      map PATH and read every page (file-backed RSS)
 *   --step-delay DUR pause after each step (e.g. 50ms; default 0)
 *   --hold DUR       pause after the last step (default 0)
 *   --free           unmap each step's memory before the next one
 *   --exit CODE      exit with CODE (default 0)
 *   --raise SIG      end by raising signal SIG
 *   --spin DUR       burn CPU for DUR after the steps
 * Children are waited for; the first failing child's status is ours.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    double f = 1;
    if (*end == 'K' || *end == 'k') f = 1024.0;
    else if (*end == 'M') f = 1048576.0;
    else if (*end == 'G') f = 1073741824.0;
    else if (*end) { fprintf(stderr, "mw-touch: bad size '%s'\n", s); exit(2); }
    return (size_t)(v * f);
}

static double parse_dur(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (!strcmp(end, "ms")) return v / 1e3;
    if (!strcmp(end, "us")) return v / 1e6;
    if (!strcmp(end, "s") || !*end) return v;
    fprintf(stderr, "mw-touch: bad duration '%s'\n", s);
    exit(2);
}

static void pause_for(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static void touch(char *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < n; i += (size_t)page) p[i] = (char)(i | 1);
}

volatile unsigned long mw_touch_sink; /* a store the compiler must keep */

static void spin(double s)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    extern volatile unsigned long mw_touch_sink;
    unsigned long x = 0;
    do {
        for (int i = 0; i < 100000; i++) x += (unsigned long)i;
        mw_touch_sink = x;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < s);
}

int main(int argc, char **argv)
{
    int nfork = 0, depth = 0, exit_code = 0, raise_sig = 0, do_free = 0;
    size_t shmem = 0;
    const char *file = NULL;
    double step_delay = 0, hold = 0, spin_s = 0;
    size_t steps[64];
    int nsteps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--fork") && v) { nfork = atoi(v); i++; }
        else if (!strcmp(a, "--depth") && v) { depth = atoi(v); i++; }
        else if (!strcmp(a, "--shmem") && v) { shmem = parse_size(v); i++; }
        else if (!strcmp(a, "--file") && v) { file = v; i++; }
        else if (!strcmp(a, "--step-delay") && v) { step_delay = parse_dur(v); i++; }
        else if (!strcmp(a, "--hold") && v) { hold = parse_dur(v); i++; }
        else if (!strcmp(a, "--spin") && v) { spin_s = parse_dur(v); i++; }
        else if (!strcmp(a, "--exit") && v) { exit_code = atoi(v); i++; }
        else if (!strcmp(a, "--raise") && v) { raise_sig = atoi(v); i++; }
        else if (!strcmp(a, "--free")) do_free = 1;
        else if (a[0] == '-') { fprintf(stderr, "mw-touch: unknown option '%s'\n", a); return 2; }
        else if (nsteps < 64) steps[nsteps++] = parse_size(a);
    }

    /* Make the tree first, so all processes allocate at the same time. */
    pid_t kids[256];
    int nkids = 0;
    for (int k = 0; k < nfork && nkids < 256; k++) {
        pid_t p = fork();
        if (p == 0) { nfork = 0; depth = 0; nkids = 0; break; }
        if (p > 0) kids[nkids++] = p;
    }
    if (depth > 0) {
        pid_t p = fork();
        if (p == 0) { depth--; nkids = 0;
            if (depth > 0) { pid_t q = fork(); if (q > 0) kids[nkids++] = q; else if (q == 0) { depth--; } }
        } else if (p > 0) kids[nkids++] = p;
    }

    if (shmem) {
        int fd = memfd_create("mw-touch", 0);
        if (fd < 0 || ftruncate(fd, (off_t)shmem) < 0) { perror("mw-touch: memfd"); return 1; }
        char *p = mmap(NULL, shmem, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) { perror("mw-touch: mmap shmem"); return 1; }
        touch(p, shmem);
    }
    if (file) {
        int fd = open(file, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) { perror("mw-touch: file"); return 1; }
        char *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) { perror("mw-touch: mmap file"); return 1; }
        volatile char sink = 0;
        for (off_t i = 0; i < st.st_size; i += 4096) sink ^= p[i];
        (void)sink;
    }
    char *prev = NULL;
    size_t prev_n = 0;
    for (int s = 0; s < nsteps; s++) {
        if (do_free && prev) munmap(prev, prev_n);
        char *p = mmap(NULL, steps[s], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { perror("mw-touch: mmap"); return 1; }
        touch(p, steps[s]);
        prev = p;
        prev_n = steps[s];
        pause_for(step_delay);
    }
    spin(spin_s);
    pause_for(hold);

    int status = exit_code;
    for (int k = 0; k < nkids; k++) {
        int st;
        while (waitpid(kids[k], &st, 0) < 0 && errno == EINTR) {}
        if (status == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    if (raise_sig) {
        signal(raise_sig, SIG_DFL);
        raise(raise_sig);
    }
    return status;
}
