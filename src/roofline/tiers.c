/*
 * tiers.c - the slower tiers a model falls back to when it does not fit
 * (docs/ROOFLINE.md, "Tiers"): a file read with nothing cached, the first
 * touch of fresh memory on 4 KiB and on 2 MiB pages, pages read back from
 * swap (with a temporary swapfile on request), and the GPU's copies
 * (cuda.c). Each is a rate, the best of several repetitions, and its
 * slowdown against DRAM read on all threads; a tier that cannot be measured
 * here is null with the reason. Nothing here fails the measurement.
 *
 * Every file made here is removed before return, on every path: the cold
 * file has no name (O_TMPFILE, else unlinked as soon as made), and the
 * swapfile is swapped off and unlinked, also when the caller's cancel flag
 * stops the measurement between two steps.
 */
#include "roofline/roofline.h"
#include "common/error.h"
#include "common/fileio.h"
#include "probe/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024ull * 1024)
#define CHUNK (4 * MIB)           /* read(2) and write(2) size of the disk tier */
#define MAX_TIER_REPS 8

static volatile unsigned char tier_sink;

/* ---- first-touch faults ------------------------------------------------- */

/* AnonHugePages of this process, in bytes (smaps_rollup); 0 when unknown. */
static uint64_t anon_huge_bytes(void)
{
    char buf[4096];
    mw_err e;
    uint64_t kb = 0;
    if (mw_read_text("/proc/self/smaps_rollup", buf, sizeof buf, NULL, &e) != MW_OK) return 0;
    const char *p = strstr(buf, "\nAnonHugePages:");
    if (!p || !mw_text_field_u64(p + 1, "AnonHugePages", &kb)) return 0;
    return kb * 1024;
}

/* The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled. */
int mw_rl_thp_mode(const char *text, char *mode, size_t cap)
{
    const char *a = strchr(text, '['), *b = a ? strchr(a, ']') : NULL;
    if (!a || !b || (size_t)(b - a - 1) >= cap) return 0;
    memcpy(mode, a + 1, (size_t)(b - a - 1));
    mode[b - a - 1] = '\0';
    return 1;
}

void mw_rl_tier_fault(const mw_roofline_opts *o, int huge, mw_roofline_tier *t)
{
    char note[64], mode[16] = "";
    const uint64_t size = mw_rl_tier_size(o->quick ? 64 * MIB : 256 * MIB, note, sizeof note);
    const int reps = o->quick ? 3 : 5;
    const size_t align = 2 * MIB;
    if (huge) {
        char text[256];
        mw_err e;
        if (mw_read_text("/sys/kernel/mm/transparent_hugepage/enabled", text, sizeof text, NULL, &e) != MW_OK) {
            mw_rl_tier_null(t, "no transparent hugepages in this kernel "
                               "(/sys/kernel/mm/transparent_hugepage/enabled cannot be read)");
            return;
        }
        if (!mw_rl_thp_mode(text, mode, sizeof mode)) snprintf(mode, sizeof mode, "?");
        if (strcmp(mode, "never") == 0) {
            mw_rl_tier_null(t, "transparent hugepages are off: [never] in "
                               "/sys/kernel/mm/transparent_hugepage/enabled");
            return;
        }
    }
    const long pg = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    double rate[MAX_TIER_REPS];
    int n = 0;
    uint64_t huge_bytes = 0;
    t->bytes = size;
    for (int r = 0; r < reps && !mw_rl_cancelled(o); r++) {
        const size_t len = (size_t)size + (huge ? align : 0);
        unsigned char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) {
            mw_rl_tier_null(t, "cannot map %llu MiB of fresh memory: %s", (unsigned long long)(size / MIB),
                            strerror(errno));
            return;
        }
        unsigned char *p = huge ? (unsigned char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1)) : raw;
        if (madvise(p, (size_t)size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0 && huge) {
            int e = errno;
            munmap(raw, len);
            mw_rl_tier_null(t, "madvise(MADV_HUGEPAGE) failed: %s: no transparent hugepages here", strerror(e));
            return;
        }
        const uint64_t before = huge ? anon_huge_bytes() : 0;
        const double t0 = mw_rl_now();
        for (uint64_t off = 0; off < size; off += (uint64_t)pg) p[off] = 1;
        const double dt = mw_rl_now() - t0;
        tier_sink = p[size / 2];
        if (huge) {
            const uint64_t after = anon_huge_bytes();
            huge_bytes = after > before ? after - before : 0;
        }
        munmap(raw, len);
        if (dt > 0) rate[n++] = (double)size / dt;
    }
    mw_rl_figure_of(rate, n, &t->bw);
    if (!n) return;   /* cancelled before the first: the caller says so */
    if (huge)
        mw_rl_tier_method(t, "a write per page, MADV_HUGEPAGE, THP [%s]: %.0f%% got huge pages%s",
                 mode, 100.0 * (double)huge_bytes / (double)size, note);
    else
        mw_rl_tier_method(t, "a write per 4 KiB page of a fresh mapping (MADV_NOHUGEPAGE)%s",
                 note);
}

/* ---- where the files go ------------------------------------------------ */

static int on_tmpfs(const char *dir)
{
    struct statfs s;
    if (statfs(dir, &s) != 0) return 0;
    return s.f_type == TMPFS_MAGIC || s.f_type == RAMFS_MAGIC;
}

/* The directory for the cold file and the swapfile: opts.tmp_dir, else
 * $TMPDIR, else /var/tmp; a tmpfs one (no disk behind it) is passed over
 * for /var/tmp unless the caller named it. 0 with why when none fits. */
static int pick_dir(const mw_roofline_opts *o, char *dir, size_t cap, char *why, size_t wcap)
{
    char shown[96];
    if (o->tmp_dir && *o->tmp_dir) {
        if (on_tmpfs(o->tmp_dir)) {
            snprintf(why, wcap, "%s is a tmpfs: a file there is the page cache, with no disk behind it",
                     mw_shown_str(o->tmp_dir, shown, sizeof shown));
            return 0;
        }
        snprintf(dir, cap, "%s", o->tmp_dir);
        return 1;
    }
    const char *env = getenv("TMPDIR");
    if (env && *env && !on_tmpfs(env)) {
        snprintf(dir, cap, "%s", env);
        return 1;
    }
    if (on_tmpfs("/var/tmp")) {
        snprintf(why, wcap, "%s and /var/tmp are tmpfs: a file there is the page cache, with no disk "
                            "behind it (set TMPDIR to a directory on a disk)",
                 env && *env ? mw_shown_str(env, shown, sizeof shown) : "$TMPDIR");
        return 0;
    }
    snprintf(dir, cap, "/var/tmp");
    return 1;
}

/* ---- a file read with nothing cached ------------------------------------ */

/* Pages of fd's first `size` bytes in the page cache (mincore over a
 * mapping); -1 when that cannot be told. */
static long long cached_pages(int fd, uint64_t size)
{
    const long pg = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    const size_t pages = (size_t)((size + (uint64_t)pg - 1) / (uint64_t)pg);
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return -1;
    unsigned char *vec = mw_malloc(pages, MW_MEM_SCRATCH);
    long long n = -1;
    if (vec && mincore(m, (size_t)size, vec) == 0) {
        n = 0;
        for (size_t i = 0; i < pages; i++) n += vec[i] & 1;
    }
    mw_free(vec);
    munmap(m, (size_t)size);
    return n;
}

/* A file with no name in dir: O_TMPFILE, else mkstemp and unlink. */
static int nameless_file(const char *dir, char *why, size_t wcap)
{
    char shown[96];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/memwall-cold-XXXXXX", dir) >= (int)sizeof path) {
        snprintf(why, wcap, "%s: path too long", mw_shown_str(dir, shown, sizeof shown));
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, wcap, "cannot create a file in %s: %s", mw_shown_str(dir, shown, sizeof shown),
                 strerror(errno));
        return -1;
    }
    unlink(path);
    return fd;
}

/* Writes size bytes of a non-zero pattern from buf (CHUNK bytes) to fd. */
static int fill_file(int fd, unsigned char *buf, uint64_t size, char *why, size_t wcap)
{
    for (uint64_t off = 0; off < size;) {
        const size_t want = (size_t)(size - off < CHUNK ? size - off : CHUNK);
        ssize_t w = pwrite(fd, buf, want, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(why, wcap, "writing the %llu MiB file failed: %s", (unsigned long long)(size / MIB),
                     w < 0 ? strerror(errno) : "no progress");
            return 0;
        }
        off += (uint64_t)w;
    }
    if (fdatasync(fd) != 0) {
        snprintf(why, wcap, "fdatasync of the file failed: %s", strerror(errno));
        return 0;
    }
    return 1;
}

void mw_rl_tier_disk_cold(const mw_roofline_opts *o, mw_roofline_tier *t)
{
    char dir[PATH_MAX], why[160], shown[48], note[64] = "";
    if (!pick_dir(o, dir, sizeof dir, why, sizeof why)) { mw_rl_tier_null(t, "%s", why); return; }
    const uint64_t want = o->quick ? 64 * MIB : 256 * MIB;
    uint64_t size = want;
    struct statvfs sv;
    if (statvfs(dir, &sv) == 0) {
        const uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        /* leave the file system twice the file and 64 MiB to spare */
        while (size > 16 * MIB && size * 2 + 64 * MIB > avail) size /= 2;
        if (size * 2 + 64 * MIB > avail) {
            mw_rl_tier_null(t, "only %llu MiB free in %s: the cold-read file needs %llu MiB",
                            (unsigned long long)(avail / MIB), mw_shown_str(dir, shown, sizeof shown),
                            (unsigned long long)(size * 2 / MIB + 64));
            return;
        }
        if (size < want)
            snprintf(note, sizeof note, "; %llu MiB, not %llu: disk short", (unsigned long long)(size / MIB),
                     (unsigned long long)(want / MIB));
    }
    void *raw = mw_malloc(CHUNK + 4096, MW_MEM_SCRATCH);
    if (!raw) { mw_rl_tier_null(t, "out of memory for the read buffer (%llu MiB)", CHUNK / MIB); return; }
    unsigned char *buf = (unsigned char *)(((uintptr_t)raw + 4095) & ~(uintptr_t)4095);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < CHUNK; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buf[i] = (unsigned char)(x | 1);
    }
    const int fd = nameless_file(dir, why, sizeof why);
    if (fd < 0) { mw_free(raw); mw_rl_tier_null(t, "%s", why); return; }
    if (!fill_file(fd, buf, size, why, sizeof why)) {
        close(fd);
        mw_free(raw);
        mw_rl_tier_null(t, "%s", why);
        return;
    }
    t->bytes = size;
    const long pg = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    const long long pages = (long long)(size / (uint64_t)pg);
    const int reps = o->quick ? 2 : 3;
    double rate[MAX_TIER_REPS];
    int n = 0, direct = 0;
    long long left = 0;
    for (int r = 0; r < reps && !mw_rl_cancelled(o); r++) {
        if (!direct) {
            posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            left = cached_pages(fd, size);
            /* more than 1% still cached (or no way to tell): bypass it */
            if (left < 0 || left * 100 > pages) {
                if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_DIRECT) != 0) {
                    close(fd);
                    mw_free(raw);
                    mw_rl_tier_null(t, "the page cache could not be dropped (%lld of %lld pages stayed) "
                                       "and O_DIRECT failed: %s", left, pages, strerror(errno));
                    return;
                }
                direct = 1;
            }
        }
        const double t0 = mw_rl_now();
        uint64_t got = 0;
        while (got < size) {
            ssize_t rd = pread(fd, buf, CHUNK, (off_t)got);
            if (rd < 0 && errno == EINTR) continue;
            if (rd <= 0) break;
            got += (uint64_t)rd;
        }
        const double dt = mw_rl_now() - t0;
        if (got < size) {
            const int e = errno;
            close(fd);
            mw_free(raw);
            mw_rl_tier_null(t, "reading the file back failed at %llu MiB%s%s", (unsigned long long)(got / MIB),
                            direct ? " (O_DIRECT): " : ": ", strerror(e));
            return;
        }
        tier_sink = buf[got % CHUNK];
        if (dt > 0) rate[n++] = (double)size / dt;
    }
    close(fd);   /* the file goes with it: it has no name */
    mw_free(raw);
    mw_rl_figure_of(rate, n, &t->bw);
    if (!n) return;
    if (direct)
        mw_rl_tier_method(t, "4 MiB reads, O_DIRECT (fadvise left %lld%% cached), %s%s",
                 left < 0 ? -1 : left * 100 / (pages ? pages : 1), mw_shown_str(dir, shown, sizeof shown), note);
    else
        mw_rl_tier_method(t, "4 MiB reads, cache dropped (fadvise; mincore: %lld%%), %s%s",
                 left * 100 / (pages ? pages : 1), mw_shown_str(dir, shown, sizeof shown), note);
}

/* ---- swap-in ------------------------------------------------------------ */

int mw_rl_swap_header(unsigned char *page, size_t page_size, uint64_t file_bytes, const unsigned char uuid[16])
{
    /* Linux's union swap_header (include/linux/swap.h): the first page;
     * at 1024 (after the boot bits) version, last_page and nr_badpages as
     * native 32-bit integers, then a 16-byte UUID and a 16-byte label; the
     * magic "SWAPSPACE2" in the page's last 10 bytes. last_page is the
     * index of the last page that may hold swap (page 0 is the header). */
    if (page_size < 4096 || file_bytes / page_size < 10 || file_bytes / page_size - 1 > UINT32_MAX) return 0;
    memset(page, 0, page_size);
    const uint32_t version = 1, last_page = (uint32_t)(file_bytes / page_size - 1), bad = 0;
    memcpy(page + 1024, &version, 4);
    memcpy(page + 1028, &last_page, 4);
    memcpy(page + 1032, &bad, 4);
    memcpy(page + 1036, uuid, 16);
    memcpy(page + 1052, "memwall", 7);   /* the label */
    memcpy(page + page_size - 10, "SWAPSPACE2", 10);
    return 1;
}

/* 1 when /proc/swaps lists a swap area. */
static int swap_active(void)
{
    char buf[4096];
    mw_err e;
    if (mw_read_text("/proc/swaps", buf, sizeof buf, NULL, &e) != MW_OK) return 0;
    const char *nl = strchr(buf, '\n');
    return nl && nl[1] != '\0';
}

/* A swapfile of `bytes` in dir, swapped on; its path in path. 0 with why
 * (the file removed) when that cannot be done. */
static int swapfile_on(const mw_roofline_opts *o, uint64_t bytes, char *path, size_t cap, char *why, size_t wcap)
{
    char dir[PATH_MAX], shown[96];
    path[0] = '\0';
    if (!pick_dir(o, dir, sizeof dir, why, wcap)) return 0;
    struct statvfs sv;
    if (statvfs(dir, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize < bytes + 64 * MIB) {
        snprintf(why, wcap, "only %llu MiB free in %s: the swapfile needs %llu MiB",
                 (unsigned long long)((uint64_t)sv.f_bavail * sv.f_frsize / MIB),
                 mw_shown_str(dir, shown, sizeof shown), (unsigned long long)(bytes / MIB + 64));
        return 0;
    }
    if (snprintf(path, cap, "%s/memwall-swap-%ld-XXXXXX", dir, (long)getpid()) >= (int)cap) {
        snprintf(why, wcap, "%s: path too long", mw_shown_str(dir, shown, sizeof shown));
        path[0] = '\0';
        return 0;
    }
    int fd = mkostemp(path, O_CLOEXEC);   /* mode 0600, as swapon wants */
    if (fd < 0) {
        snprintf(why, wcap, "cannot create a swapfile in %s: %s", mw_shown_str(dir, shown, sizeof shown),
                 strerror(errno));
        path[0] = '\0';
        return 0;
    }
    const long pg = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    unsigned char *buf = mw_calloc(1, CHUNK, MW_MEM_SCRATCH);
    unsigned char uuid[16];
    int ok = buf != NULL;
    if (!ok) snprintf(why, wcap, "out of memory for the swapfile's buffer");
    if (ok) {
        /* written, not fallocated: a swapfile must have no holes */
        ok = fill_file(fd, buf, bytes, why, wcap);
    }
    if (ok) {
        uint64_t seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(mw_rl_now() * 1e9);
        for (int i = 0; i < 16; i++) { seed = seed * 6364136223846793005ull + 1442695040888963407ull; uuid[i] = (unsigned char)(seed >> 56); }
        uuid[6] = (unsigned char)((uuid[6] & 0x0f) | 0x40);   /* a version 4 UUID */
        uuid[8] = (unsigned char)((uuid[8] & 0x3f) | 0x80);
        ok = mw_rl_swap_header(buf, (size_t)pg, bytes, uuid);
        if (!ok) snprintf(why, wcap, "a swapfile of %llu bytes is too small", (unsigned long long)bytes);
    }
    if (ok && (pwrite(fd, buf, (size_t)pg, 0) != (ssize_t)pg || fdatasync(fd) != 0)) {
        snprintf(why, wcap, "writing the swap header failed: %s", strerror(errno));
        ok = 0;
    }
    mw_free(buf);
    close(fd);
    if (ok && swapon(path, 0) != 0) {
        const int e = errno;
        if (e == EPERM)
            snprintf(why, wcap, "swapon not permitted (needs root with CAP_SYS_ADMIN): no temporary swapfile");
        else if (e == EINVAL)
            snprintf(why, wcap, "swapon %s: the file system does not take swapfiles (EINVAL): set TMPDIR",
                     mw_shown_str(dir, shown, sizeof shown));
        else
            snprintf(why, wcap, "swapon %s failed: %s", mw_shown_str(path, shown, sizeof shown), strerror(e));
        ok = 0;
    }
    if (!ok) { unlink(path); path[0] = '\0'; }
    return ok;
}

/* Swaps path off (again while a signal interrupts it) and unlinks it. 0
 * with why when swapoff failed: the file is kept, or it could never be
 * swapped off. */
static int swapfile_off(const char *path, char *why, size_t wcap)
{
    char shown[96];
    int rc;
    do rc = swapoff(path); while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        snprintf(why, wcap, "swapoff %s failed: %s: run swapoff on it, then remove it",
                 mw_shown_str(path, shown, sizeof shown), strerror(errno));
        return 0;
    }
    unlink(path);
    return 1;
}

/* MADV_PAGEOUT writes the pages to swap, but on a disk (not zram) the
 * written pages stay in the swap cache until memory is short: touching them
 * would not read the disk. The tier's memory is therefore made in a memory
 * cgroup of its own, whose reclaim (v2 memory.reclaim, v1
 * memory.force_empty) then frees them: the pages reclaim finds there are
 * these. Root, or a delegated cgroup, is needed; without it only the pages
 * that left memory count. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

typedef struct swap_cg {
    int on;
    mw_cgroup cg, self;
} swap_cg;

static int swap_cg_enter(swap_cg *s, char *why, size_t cap)
{
    mw_cgroup_fs fs;
    mw_err e;
    memset(s, 0, sizeof *s);
    if (mw_cgroup_fs_detect(&fs, &e) != MW_OK) { copy_text(why, cap, e.msg); return 0; }
    s->self.version = fs.version;
    if (snprintf(s->self.path, sizeof s->self.path, "%s%s", fs.mount, strcmp(fs.self, "/") ? fs.self : "") >=
        (int)sizeof s->self.path) {
        snprintf(why, cap, "our cgroup's path is too long");
        return 0;
    }
    char name[48];
    snprintf(name, sizeof name, "memwall-swapin-%ld", (long)getpid());
    if (mw_cgroup_create(&fs, name, MW_UNLIMITED, MW_UNLIMITED, &s->cg, &e) != MW_OK) {
        copy_text(why, cap, e.msg);
        return 0;
    }
    if (mw_cgroup_attach(&s->cg, getpid(), &e) != MW_OK) {
        copy_text(why, cap, e.msg);
        mw_cgroup_destroy(&s->cg, &e);
        return 0;
    }
    s->on = 1;
    return 1;
}

static void swap_cg_leave(swap_cg *s)
{
    mw_err e;
    if (!s->on) return;
    mw_cgroup_attach(&s->self, getpid(), &e);
    mw_cgroup_destroy(&s->cg, &e);
    s->on = 0;
}

/* Frees what the cgroup holds that reclaim can free: the written pages. */
static void swap_cg_reclaim(const swap_cg *s, uint64_t bytes)
{
    char path[PATH_MAX + 32], val[32];
    mw_err e;
    if (!s->on) return;
    if (s->cg.version == MW_CGROUP_V2) {
        snprintf(path, sizeof path, "%s/memory.reclaim", s->cg.path);
        snprintf(val, sizeof val, "%llu", (unsigned long long)bytes);
    } else {
        snprintf(path, sizeof path, "%s/memory.force_empty", s->cg.path);
        snprintf(val, sizeof val, "0");
    }
    mw_write_text(path, val, 0, &e);   /* EAGAIN/EBUSY when not all could go: mincore tells */
}

/* Pushes p[0..size) out with MADV_PAGEOUT and times reading it back.
 * 1 with *rate and *out_bytes (what came from swap), else 0 with why. */
static int swap_round(const swap_cg *cg, unsigned char *p, uint64_t size, long pg, unsigned char *vec,
                      double *rate, uint64_t *out_bytes, char *why, size_t wcap)
{
    const size_t pages = (size_t)(size / (uint64_t)pg);
    if (madvise(p, (size_t)size, MADV_PAGEOUT) != 0) {
        if (errno == EINVAL)
            snprintf(why, wcap, "madvise(MADV_PAGEOUT) is not supported: Linux 5.4 or later is needed");
        else
            snprintf(why, wcap, "madvise(MADV_PAGEOUT) failed: %s", strerror(errno));
        return 0;
    }
    /* a page still in memory (or in the swap cache, not yet freed) is not
     * read from swap: count only those gone, waiting a little for writeback */
    size_t gone = 0;
    for (int tries = 0; tries < 20; tries++) {
        swap_cg_reclaim(cg, size);
        if (mincore(p, (size_t)size, vec) != 0) {
            snprintf(why, wcap, "mincore failed: %s", strerror(errno));
            return 0;
        }
        gone = 0;
        for (size_t i = 0; i < pages; i++) gone += !(vec[i] & 1);
        if (gone * 10 >= pages * 9) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (gone == 0) {
        snprintf(why, wcap, "no page left memory: MADV_PAGEOUT wrote them, but they stayed in the swap "
                            "cache%s", cg->on ? "" : " (no cgroup of our own to reclaim them: not root?)");
        return 0;
    }
    unsigned sum = 0;
    const double t0 = mw_rl_now();
    for (size_t i = 0; i < pages; i++) sum += p[i * (size_t)pg];
    const double dt = mw_rl_now() - t0;
    tier_sink = (unsigned char)sum;
    *out_bytes = (uint64_t)gone * (uint64_t)pg;
    *rate = dt > 0 ? (double)*out_bytes / dt : 0;
    return *rate > 0;
}

void mw_rl_tier_swap_in(const mw_roofline_opts *o, mw_roofline_tier *t)
{
    char note[64], why[160] = "", path[PATH_MAX] = "";
    const uint64_t size = mw_rl_tier_size(o->quick ? 32 * MIB : 128 * MIB, note, sizeof note);
    const int had_swap = swap_active();
    if (!had_swap) {
        if (!o->swap) { mw_rl_tier_null(t, "no swap active: give --swap (root) for a temporary swapfile"); return; }
        if (!swapfile_on(o, size * 2, path, sizeof path, why, sizeof why)) { mw_rl_tier_null(t, "%s", why); return; }
    }
    const long pg = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    const int reps = o->quick ? 2 : 3;
    double rate[MAX_TIER_REPS];
    int n = 0;
    uint64_t out = 0;
    unsigned char *vec = mw_malloc((size_t)(size / (uint64_t)pg), MW_MEM_SCRATCH);
    unsigned char *p = MAP_FAILED;
    swap_cg cg;
    char cgwhy[160] = "";
    const int in_cg = !mw_rl_cancelled(o) && swap_cg_enter(&cg, cgwhy, sizeof cgwhy);
    if (!vec) snprintf(why, sizeof why, "out of memory for the residency vector");
    else if (!mw_rl_cancelled(o)) {
        p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) snprintf(why, sizeof why, "cannot map %llu MiB: %s", (unsigned long long)(size / MIB),
                                      strerror(errno));
    }
    if (p != MAP_FAILED) {
        madvise(p, (size_t)size, MADV_NOHUGEPAGE);
        /* random bytes: zswap and zram store same-filled pages without
         * writing them */
        uint64_t x = 0x2545F4914F6CDD1Dull, *w = (uint64_t *)(void *)p;
        for (size_t i = 0; i < size / 8; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            w[i] = x | 1;
        }
        for (int r = 0; r < reps && !mw_rl_cancelled(o); r++) {
            uint64_t got = 0;
            if (!swap_round(&cg, p, size, pg, vec, &rate[n], &got, why, sizeof why)) break;
            if (got > out) out = got;
            n++;
        }
        munmap(p, (size_t)size);
    }
    if (in_cg) swap_cg_leave(&cg);
    mw_free(vec);
    char offwhy[160] = "";
    const int off_ok = path[0] ? swapfile_off(path, offwhy, sizeof offwhy) : 1;
    mw_rl_figure_of(rate, n, &t->bw);
    t->bytes = out;
    if (!n) {
        if (why[0]) mw_rl_tier_null(t, "%s", why);
        if (!off_ok) mw_rl_tier_null(t, "%s", offwhy);
        return;
    }
    if (!off_ok) {
        mw_rl_tier_method(t, "measured, but the swapfile stayed: see reason");
        snprintf(t->reason, sizeof t->reason, "%s", offwhy);
        return;
    }
    mw_rl_tier_method(t, "MADV_PAGEOUT%s, a read per page; %llu of %llu MiB out, %s%s",
                      in_cg ? " + cgroup reclaim" : "", (unsigned long long)(out / MIB),
                      (unsigned long long)(size / MIB), had_swap ? "active swap" : "temporary swapfile", note);
}

/* ---- all of them ---------------------------------------------------------- */

void mw_rl_tiers_measure(const mw_roofline_opts *o, mw_roofline_result *r)
{
    r->n_tiers = MW_TIER_COUNT;
    for (int i = 0; i < MW_TIER_COUNT; i++) mw_rl_tier_init(&r->tiers[i], i);
    /* the fastest first: an interruption keeps the most */
    static const int order[] = {MW_TIER_FAULT_4K, MW_TIER_FAULT_THP, MW_TIER_DISK_COLD, MW_TIER_SWAP_IN};
    int stopped = 0;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        mw_roofline_tier *t = &r->tiers[order[k]];
        if (mw_rl_cancelled(o)) { stopped = 1; break; }
        switch (order[k]) {
        case MW_TIER_FAULT_4K:  mw_rl_tier_fault(o, 0, t); break;
        case MW_TIER_FAULT_THP: mw_rl_tier_fault(o, 1, t); break;
        case MW_TIER_DISK_COLD: mw_rl_tier_disk_cold(o, t); break;
        case MW_TIER_SWAP_IN:   mw_rl_tier_swap_in(o, t); break;
        }
    }
    if (!stopped && !mw_rl_cancelled(o))
        mw_rl_tiers_gpu(o, &r->tiers[MW_TIER_GPU_D2D], r->gpu_name, sizeof r->gpu_name);
    if (mw_rl_cancelled(o)) r->interrupted_signal = (int)*o->cancel;
    const double dram = r->n_levels ? r->levels[r->n_levels - 1].bw[MW_RL_READ][1].max : -1;
    for (int i = 0; i < MW_TIER_COUNT; i++) {
        mw_roofline_tier *t = &r->tiers[i];
        if (t->bw.max <= 0 && !t->reason[0] && r->interrupted_signal)
            mw_rl_tier_null(t, "interrupted by %s before it was measured", mw_signal_name(r->interrupted_signal));
        t->slowdown = t->bw.max > 0 && dram > 0 ? dram / t->bw.max : -1;
    }
}
