/*
 * cgroup.c - memory cgroups v1 and v2: find them, make one, cap it, read it.
 *
 * Real trees and fake trees
 *   A tree is "real" when its directory lives on cgroupfs (statfs f_type is
 *   CGROUP_SUPER_MAGIC or CGROUP2_SUPER_MAGIC); anything else is a fake tree
 *   made of plain directories and files (tests, MEMWALL_CGROUP_FS). Deciding
 *   by the filesystem rather than by where the mw_cgroup_fs came from means a
 *   hand-built mw_cgroup_fs, or MEMWALL_CGROUP_FS pointing at a real cgroupfs,
 *   behaves as the filesystem does. In a fake tree:
 *     - control files do not appear by themselves on mkdir, so a write to a
 *       missing control file creates it ... unless the parent is a
 *       "populated" fake cgroup (it holds memory.limit_in_bytes for v1 or
 *       memory.max for v2) that lacks the file: like the kernel, a child then
 *       gets the parent's set of files, so a test makes swap control missing
 *       by leaving memory.memsw.limit_in_bytes / memory.swap.max out of a
 *       populated parent. (A v2 root never has memory.max, so it never counts
 *       as populated, as in the kernel where only non-root cgroups have it.)
 *     - cgroup.subtree_control is read-only: "+memory" is never written, since
 *       a plain file cannot reject it the way the kernel does for a cgroup
 *       with processes. A fake root counts as delegating memory.
 *     - cgroup.controllers is checked only when present.
 *     - attach appends the pid to cgroup.procs (creating it).
 *     - destroy unlinks the memory.* and cgroup.* files before rmdir.
 *   PIDs listed in a fake cgroup.procs are real processes: kill_all kills them.
 */
#include "probe/cgroup.h"
#include "common/error.h"
#include "common/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define SYSTEMD_HINT_FMT \
    "systemd-run --user --scope -p MemoryMax=%s -p MemorySwapMax=%s -- memwall watch -- CMD"

/* ---- small helpers ------------------------------------------------------ */

/* out = a "/" b, without doubling slashes; b may start with '/'. */
static mw_status path_join(char *out, const char *a, const char *b, mw_err *err)
{
    size_t alen = strlen(a);
    while (alen > 1 && a[alen - 1] == '/') alen--;
    while (*b == '/') b++;
    int n;
    if (*b == '\0')
        n = snprintf(out, PATH_MAX, "%.*s", (int)alen, a);
    else if (alen == 1 && a[0] == '/')
        n = snprintf(out, PATH_MAX, "/%s", b);
    else
        n = snprintf(out, PATH_MAX, "%.*s/%s", (int)alen, a, b);
    if (n < 0 || n >= PATH_MAX)
        return mw_err_set(err, MW_ERR_INVALID,
                          "path %.*s/%s is longer than PATH_MAX (%d); use a shorter "
                          "cgroup mount or name", (int)(alen > 200 ? 200 : alen), a, b,
                          PATH_MAX);
    return MW_OK;
}

/* Is `word` one of the sep-separated words of s[0..len)? */
static int has_word_n(const char *s, size_t len, const char *word, const char *seps)
{
    size_t wlen = strlen(word);
    size_t i = 0;
    while (i < len) {
        while (i < len && strchr(seps, s[i])) i++;
        size_t start = i;
        while (i < len && !strchr(seps, s[i])) i++;
        if (i - start == wlen && memcmp(s + start, word, wlen) == 0) return 1;
    }
    return 0;
}

static int has_word(const char *s, const char *word, const char *seps)
{
    return has_word_n(s, strlen(s), word, seps);
}

static int file_exists(const char *dir, const char *file)
{
    char path[PATH_MAX];
    if (path_join(path, dir, file, NULL) != MW_OK) return 0;
    return access(path, F_OK) == 0;
}

/* 1 when dir is not on cgroupfs (a fake tree); 0 when it is, or cannot be
 * examined (then the stricter, real-tree rules apply). */
static int tree_is_fake(const char *dir)
{
    struct statfs sf;
    if (statfs(dir, &sf) != 0) return 0;
    unsigned long t = (unsigned long)sf.f_type;
    return t != (unsigned long)CGROUP_SUPER_MAGIC && t != (unsigned long)CGROUP2_SUPER_MAGIC;
}

static const char *limit_main_file(mw_cgroup_version v)
{
    return v == MW_CGROUP_V1 ? "memory.limit_in_bytes" : "memory.max";
}

/* Does the control file exist in cgdir (or, in a fake tree, would it)? */
static int control_exists(const char *cgdir, const char *parent, const char *file,
                          mw_cgroup_version v, int fake)
{
    if (file_exists(cgdir, file)) return 1;
    if (!fake) return 0;
    int populated = file_exists(parent, limit_main_file(v));
    return !populated || file_exists(parent, file);
}

static mw_status write_control(const char *cgdir, const char *file, const char *value,
                               int fake, mw_err *err)
{
    char path[PATH_MAX];
    MW_FORWARD(path_join(path, cgdir, file, err));
    int create = fake && access(path, F_OK) != 0;
    return mw_write_text(path, value, create, err);
}

/* Reads a whole (possibly large) file into a mw_malloc'd buffer. */
static mw_status read_whole(const char *path, char **out, size_t *out_len, mw_err *err)
{
    size_t cap = 16384;
    for (;;) {
        char *buf = mw_malloc(cap, MW_MEM_PROBE);
        if (!buf)
            return mw_err_set(err, MW_ERR_NOMEM, "out of memory reading %s (%zu bytes)",
                              path, cap);
        size_t n = 0;
        mw_status st = mw_read_text(path, buf, cap, &n, err);
        if (st != MW_OK) {
            mw_free(buf);
            return st;
        }
        if (n < cap - 1) {
            *out = buf;
            if (out_len) *out_len = n;
            return MW_OK;
        }
        mw_free(buf);
        if (cap >= ((size_t)64 << 20))
            return mw_err_set(err, MW_ERR_IO, "%s is larger than 64 MiB; is it the right file?",
                              path);
        cap *= 4;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- finding the hierarchy ---------------------------------------------- */

/* Next space-separated token of [p, end). */
static const char *next_tok(const char *p, const char *end, const char **tok, size_t *len)
{
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    *tok = p;
    while (p < end && *p != ' ' && *p != '\t') p++;
    *len = (size_t)(p - *tok);
    return p;
}

/* Copies a mountinfo field, decoding the kernel's \NNN octal escapes
 * (\040 space, \011 tab, \012 newline, \134 backslash). 0 when too long. */
static int decode_field(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 3 < len &&
            s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
            s[i + 3] >= '0' && s[i + 3] <= '7') {
            c = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
            i += 3;
        }
        if (o + 1 >= cap) return 0;
        out[o++] = c;
    }
    out[o] = '\0';
    return 1;
}

/* Our cgroup path in /proc/self/cgroup: v1 the line whose controller list
 * has "memory", v2 the "0::" line. 0 when there is none. */
static int self_path(const char *proc_cgroup, mw_cgroup_version v, char *out, size_t cap)
{
    for (const char *line = proc_cgroup; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol) eol = line + strlen(line);
        const char *c1 = memchr(line, ':', (size_t)(eol - line));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
        if (c2) {
            const char *ctl = c1 + 1;
            size_t ctl_len = (size_t)(c2 - ctl);
            int match = v == MW_CGROUP_V1
                ? has_word_n(ctl, ctl_len, "memory", ",")
                : (c1 - line == 1 && line[0] == '0' && ctl_len == 0);
            if (match) {
                size_t plen = (size_t)(eol - c2 - 1);
                if (plen == 0 || plen + 1 > cap) return 0;
                memcpy(out, c2 + 1, plen);
                out[plen] = '\0';
                return 1;
            }
        }
        line = *eol ? eol + 1 : eol;
    }
    return 0;
}

/* Does the mount's root (4th mountinfo field) lie at or above self? */
static int root_covers(const char *root, const char *self)
{
    if (strcmp(root, "/") == 0) return 1;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    return strncmp(self, root, n) == 0 && (self[n] == '/' || self[n] == '\0');
}

mw_status mw_cgroup_fs_parse(const char *mountinfo, const char *proc_cgroup,
                             mw_cgroup_fs *fs, mw_err *err)
{
    MW_RETURN_IF(!mountinfo || !fs, err, MW_ERR_INVALID,
                 "mw_cgroup_fs_parse: mountinfo text and fs are required");

    char self_v1[PATH_MAX] = "/", self_v2[PATH_MAX] = "/";
    if (!self_path(proc_cgroup, MW_CGROUP_V1, self_v1, sizeof self_v1)) strcpy(self_v1, "/");
    if (!self_path(proc_cgroup, MW_CGROUP_V2, self_v2, sizeof self_v2)) strcpy(self_v2, "/");

    /* best candidate per version: score 2 when the mount root covers our
     * path (the usual case), 1 otherwise; first one wins ties */
    char mnt[2][PATH_MAX], root[2][PATH_MAX];
    int score[2] = { 0, 0 };
    char m_tmp[PATH_MAX], r_tmp[PATH_MAX];

    for (const char *line = mountinfo; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol) eol = line + strlen(line);

        const char *tok, *p = line;
        size_t len;
        const char *f_root = NULL, *f_mnt = NULL;
        size_t root_len = 0, mnt_len = 0;
        int field = 0, ok = 0;
        /* id parent maj:min root mountpoint opts [optional...] - type src superopts */
        for (; field < 6; field++) {
            p = next_tok(p, eol, &tok, &len);
            if (len == 0) break;
            if (field == 3) { f_root = tok; root_len = len; }
            if (field == 4) { f_mnt = tok; mnt_len = len; }
        }
        if (field == 6) {
            for (;;) {
                p = next_tok(p, eol, &tok, &len);
                if (len == 0) break;
                if (len == 1 && tok[0] == '-') { ok = 1; break; }
            }
        }
        const char *fstype = NULL, *superopts = NULL;
        size_t fstype_len = 0, superopts_len = 0;
        if (ok) {
            p = next_tok(p, eol, &fstype, &fstype_len);
            p = next_tok(p, eol, &tok, &len); /* source */
            p = next_tok(p, eol, &superopts, &superopts_len);
            ok = fstype_len > 0;
        }
        if (ok) {
            int idx = -1;
            if (fstype_len == 6 && memcmp(fstype, "cgroup", 6) == 0 &&
                has_word_n(superopts, superopts_len, "memory", ","))
                idx = 0;
            else if (fstype_len == 7 && memcmp(fstype, "cgroup2", 7) == 0)
                idx = 1;
            if (idx >= 0 && decode_field(f_root, root_len, r_tmp, sizeof r_tmp) &&
                decode_field(f_mnt, mnt_len, m_tmp, sizeof m_tmp)) {
                int s = root_covers(r_tmp, idx == 0 ? self_v1 : self_v2) ? 2 : 1;
                if (s > score[idx]) {
                    score[idx] = s;
                    memcpy(mnt[idx], m_tmp, sizeof m_tmp);
                    memcpy(root[idx], r_tmp, sizeof r_tmp);
                }
            }
        }
        line = *eol ? eol + 1 : eol;
    }

    int idx = score[0] ? 0 : score[1] ? 1 : -1;
    MW_RETURN_IF(idx < 0, err, MW_ERR_UNSUPPORTED,
                 "no memory cgroup is mounted: /proc/self/mountinfo has neither a cgroup v1 "
                 "hierarchy with the memory controller nor a cgroup2 mount. Mount one "
                 "(mount -t cgroup2 none /sys/fs/cgroup) or run without a memory limit");

    const char *self = idx == 0 ? self_v1 : self_v2;
    memset(fs, 0, sizeof *fs);
    fs->version = idx == 0 ? MW_CGROUP_V1 : MW_CGROUP_V2;
    memcpy(fs->mount, mnt[idx], sizeof fs->mount);

    /* /proc/self/cgroup paths are relative to the hierarchy's root; a mount
     * of a subtree (containers without a cgroup namespace) shows that
     * subtree at the mountpoint, so strip its root. */
    const char *rel = self;
    if (strcmp(root[idx], "/") != 0 && root_covers(root[idx], self)) {
        size_t n = strlen(root[idx]);
        while (n > 1 && root[idx][n - 1] == '/') n--;
        rel = self + n;
    }
    if (*rel == '\0') rel = "/";
    snprintf(fs->self, sizeof fs->self, "%s", rel);
    return MW_OK;
}

mw_status mw_cgroup_fs_detect(mw_cgroup_fs *fs, mw_err *err)
{
    MW_RETURN_IF(!fs, err, MW_ERR_INVALID, "mw_cgroup_fs_detect: fs is required");

    const char *env = getenv("MEMWALL_CGROUP_FS");
    if (env && *env) {
        mw_cgroup_version v = MW_CGROUP_NONE;
        if (strncmp(env, "v1:", 3) == 0) v = MW_CGROUP_V1;
        else if (strncmp(env, "v2:", 3) == 0) v = MW_CGROUP_V2;
        const char *dir = env + 3;
        MW_RETURN_IF(v == MW_CGROUP_NONE || dir[0] != '/', err, MW_ERR_INVALID,
                     "MEMWALL_CGROUP_FS=\"%.200s\" is not valid: expected \"v1:DIR\" or "
                     "\"v2:DIR\" with an absolute DIR (e.g. v2:/sys/fs/cgroup); unset it to "
                     "detect the cgroup from /proc/self/mountinfo", env);
        MW_RETURN_IF(strlen(dir) >= sizeof fs->mount, err, MW_ERR_INVALID,
                     "MEMWALL_CGROUP_FS: directory is longer than PATH_MAX");
        struct stat st;
        if (stat(dir, &st) != 0)
            return mw_err_errno(err, MW_ERR_NOT_FOUND, errno,
                                "MEMWALL_CGROUP_FS names %.300s, which cannot be used; create "
                                "the directory or unset MEMWALL_CGROUP_FS", dir);
        MW_RETURN_IF(!S_ISDIR(st.st_mode), err, MW_ERR_INVALID,
                     "MEMWALL_CGROUP_FS names %.300s, which is not a directory; point it at "
                     "a cgroup mount or unset it", dir);
        memset(fs, 0, sizeof *fs);
        fs->version = v;
        snprintf(fs->mount, sizeof fs->mount, "%s", dir);
        size_t n = strlen(fs->mount);
        while (n > 1 && fs->mount[n - 1] == '/') fs->mount[--n] = '\0';
        strcpy(fs->self, "/");
        return MW_OK;
    }

    char *mi = NULL, *pc = NULL;
    MW_FORWARD(read_whole("/proc/self/mountinfo", &mi, NULL, err));
    mw_status st = read_whole("/proc/self/cgroup", &pc, NULL, err);
    if (st == MW_OK) st = mw_cgroup_fs_parse(mi, pc, fs, err);
    mw_free(mi);
    mw_free(pc);
    return st;
}

/* ---- making one ----------------------------------------------------------- */

static void size_arg(uint64_t bytes, char *buf, size_t cap, const char *unknown)
{
    if (bytes == MW_UNLIMITED) snprintf(buf, cap, "%s", unknown);
    else snprintf(buf, cap, "%llu", (unsigned long long)bytes);
}

/* Removes a directory we made (after unlinking a fake tree's files). */
static int remove_cgroup_dir(const char *dir, int fake)
{
    if (fake) {
        DIR *d = opendir(dir);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strncmp(e->d_name, "memory.", 7) != 0 &&
                    strncmp(e->d_name, "cgroup.", 7) != 0)
                    continue;
                char p[PATH_MAX];
                struct stat st;
                if (path_join(p, dir, e->d_name, NULL) == MW_OK && lstat(p, &st) == 0 &&
                    S_ISREG(st.st_mode))
                    unlink(p);
            }
            closedir(d);
        }
    }
    return rmdir(dir);
}

/* Does dir's cgroup.subtree_control have (or, in a real tree, accept)
 * "+memory"? A fake root counts as delegating; a fake tree is never written. */
static int delegates_memory(const char *dir, int is_root, int fake)
{
    char path[PATH_MAX], buf[512];
    if (path_join(path, dir, "cgroup.subtree_control", NULL) != MW_OK) return 0;
    if (mw_read_text(path, buf, sizeof buf, NULL, NULL) == MW_OK &&
        has_word(buf, "memory", " \t\n"))
        return 1;
    if (fake) return is_root;
    return mw_write_text(path, "+memory", 0, NULL) == MW_OK;
}

static mw_status choose_v2_parent(const mw_cgroup_fs *fs, const char *selfdir, int fake,
                                  const char *lim, const char *swp, char *parent,
                                  mw_err *err)
{
    int self_is_root = strcmp(fs->self, "/") == 0 || fs->self[0] == '\0';
    if (delegates_memory(selfdir, self_is_root, fake)) {
        memcpy(parent, selfdir, PATH_MAX);
        return MW_OK;
    }
    if (self_is_root)
        return mw_err_set(err, MW_ERR_UNSUPPORTED,
                          "the cgroup2 hierarchy at %.200s does not offer the memory controller "
                          "(its cgroup.subtree_control lacks memory and refuses +memory). "
                          "Enable it, or let systemd make the cgroup: " SYSTEMD_HINT_FMT,
                          selfdir, lim, swp);

    /* our cgroup holds processes (us), so it cannot delegate: try its parent */
    char up[PATH_MAX];
    snprintf(up, sizeof up, "%s", fs->self);
    size_t n = strlen(up);
    while (n > 1 && up[n - 1] == '/') up[--n] = '\0';
    char *slash = strrchr(up, '/');
    if (slash == up || !slash) up[1] = '\0';
    else *slash = '\0';
    char updir[PATH_MAX];
    MW_FORWARD(path_join(updir, fs->mount, up, err));
    if (delegates_memory(updir, strcmp(up, "/") == 0, fake)) {
        memcpy(parent, updir, PATH_MAX);
        return MW_OK;
    }
    return mw_err_set(err, MW_ERR_UNSUPPORTED,
                      "cannot make a memory cgroup: neither our cgroup %.150s nor its parent "
                      "%.150s has (or accepts) memory in cgroup.subtree_control (a cgroup "
                      "with processes cannot delegate). Let systemd make the cgroup: "
                      SYSTEMD_HINT_FMT, selfdir, updir, lim, swp);
}

static mw_status set_limits(const mw_cgroup_fs *fs, const char *dir, const char *parent,
                            uint64_t limit, uint64_t swap, int fake, mw_cgroup *cg,
                            mw_err *err)
{
    char val[32];
    mw_cgroup_version v = fs->version;

    if (!control_exists(dir, parent, limit_main_file(v), v, fake))
        return mw_err_set(err, MW_ERR_UNSUPPORTED,
                          "%.300s/%s does not exist: the memory controller is not enabled for "
                          "this cgroup. Enable it in the parent's cgroup.subtree_control, or "
                          "run without a memory limit", dir, limit_main_file(v));

    if (v == MW_CGROUP_V2) {
        size_arg(limit, val, sizeof val, "max");
        MW_FORWARD(write_control(dir, "memory.max", val, fake, err));
        cg->has_swap_control = control_exists(dir, parent, "memory.swap.max", v, fake);
        if (swap != MW_UNLIMITED) {
            MW_RETURN_IF(!cg->has_swap_control, err, MW_ERR_UNSUPPORTED,
                         "cannot limit swap: %.300s/memory.swap.max does not exist (kernel "
                         "without swap accounting: CONFIG_MEMCG_SWAP, boot option "
                         "swapaccount=1). Enable it, or leave swap unlimited", dir);
            size_arg(swap, val, sizeof val, "max");
            MW_FORWARD(write_control(dir, "memory.swap.max", val, fake, err));
        }
        return MW_OK;
    }

    if (limit != MW_UNLIMITED) {
        size_arg(limit, val, sizeof val, "-1");
        MW_FORWARD(write_control(dir, "memory.limit_in_bytes", val, fake, err));
    }
    cg->has_swap_control = control_exists(dir, parent, "memory.memsw.limit_in_bytes", v, fake);
    /* memsw caps memory + swap together, so it only means something with a
     * finite memory limit; "no RAM cap but no swap" is not expressible in v1 */
    if (swap != MW_UNLIMITED && limit != MW_UNLIMITED) {
        MW_RETURN_IF(!cg->has_swap_control, err, MW_ERR_UNSUPPORTED,
                     "cannot limit swap: %.300s/memory.memsw.limit_in_bytes does not exist, so "
                     "swap accounting is off in this kernel. Boot with the kernel option "
                     "swapaccount=1, or leave swap unlimited", dir);
        uint64_t total = limit + swap;
        if (total < limit) snprintf(val, sizeof val, "-1");
        else size_arg(total, val, sizeof val, "-1");
        MW_FORWARD(write_control(dir, "memory.memsw.limit_in_bytes", val, fake, err));
    }
    return MW_OK;
}

mw_status mw_cgroup_create(const mw_cgroup_fs *fs, const char *name,
                           uint64_t limit_bytes, uint64_t swap_limit_bytes,
                           mw_cgroup *cg, mw_err *err)
{
    MW_RETURN_IF(!fs || !cg || !name, err, MW_ERR_INVALID,
                 "mw_cgroup_create: fs, name and cg are required");
    MW_RETURN_IF(fs->version != MW_CGROUP_V1 && fs->version != MW_CGROUP_V2, err,
                 MW_ERR_INVALID, "mw_cgroup_create: no cgroup hierarchy (version %d)",
                 (int)fs->version);
    MW_RETURN_IF(!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
                 strcmp(name, "..") == 0, err, MW_ERR_INVALID,
                 "cgroup name \"%.100s\" is not valid: it must be one non-empty path "
                 "component", name);
    MW_RETURN_IF(limit_bytes == 0, err, MW_ERR_INVALID,
                 "a memory limit of 0 bytes cannot run anything; give a positive limit");

    memset(cg, 0, sizeof *cg);
    char lim[32], swp[32];
    size_arg(limit_bytes, lim, sizeof lim, "SIZE");
    size_arg(swap_limit_bytes, swp, sizeof swp, "infinity");

    char selfdir[PATH_MAX], parent[PATH_MAX], dir[PATH_MAX];
    MW_FORWARD(path_join(selfdir, fs->mount, fs->self, err));
    int fake = tree_is_fake(fs->mount);

    if (fs->version == MW_CGROUP_V1)
        memcpy(parent, selfdir, sizeof parent);
    else
        MW_FORWARD(choose_v2_parent(fs, selfdir, fake, lim, swp, parent, err));
    MW_FORWARD(path_join(dir, parent, name, err));

    if (mkdir(dir, 0755) != 0) {
        int e = errno;
        if (e == EACCES || e == EPERM || e == EROFS)
            return mw_err_set(err, MW_ERR_PERMISSION,
                              "cannot create memory cgroup %.200s: %s. Run as root, or let "
                              "systemd make the cgroup: " SYSTEMD_HINT_FMT,
                              dir, strerror(e), lim, swp);
        if (e == EEXIST)
            return mw_err_set(err, MW_ERR_IO,
                              "cannot create memory cgroup %.250s: it already exists (left "
                              "by an earlier run?). Remove it with rmdir, or use another name",
                              dir);
        if (e == ENOENT || e == ENOTDIR)
            return mw_err_set(err, MW_ERR_NOT_FOUND,
                              "cannot create memory cgroup %.250s: %s (the parent %.150s is "
                              "not a cgroup directory). Check the cgroup mount or "
                              "MEMWALL_CGROUP_FS", dir, strerror(e), parent);
        return mw_err_errno(err, mw_status_from_errno(e), e,
                            "cannot create memory cgroup %.300s", dir);
    }

    mw_status st = MW_OK;
    if (fs->version == MW_CGROUP_V2) {
        char buf[512];
        char cpath[PATH_MAX];
        if (path_join(cpath, dir, "cgroup.controllers", NULL) == MW_OK &&
            mw_read_text(cpath, buf, sizeof buf, NULL, NULL) == MW_OK &&
            !has_word(buf, "memory", " \t\n"))
            st = mw_err_set(err, MW_ERR_UNSUPPORTED,
                            "the memory controller is not available in %.200s (its "
                            "cgroup.controllers lacks memory). Let systemd make the cgroup: "
                            SYSTEMD_HINT_FMT, dir, lim, swp);
    }
    if (st == MW_OK)
        st = set_limits(fs, dir, parent, limit_bytes, swap_limit_bytes, fake, cg, err);
    if (st != MW_OK) {
        remove_cgroup_dir(dir, fake);
        memset(cg, 0, sizeof *cg);
        return st;
    }

    cg->version = fs->version;
    memcpy(cg->path, dir, sizeof cg->path);
    cg->limit_bytes = limit_bytes;
    cg->swap_limit_bytes = swap_limit_bytes;
    return MW_OK;
}

mw_status mw_cgroup_attach(const mw_cgroup *cg, pid_t pid, mw_err *err)
{
    MW_RETURN_IF(!cg || !cg->path[0], err, MW_ERR_INVALID,
                 "mw_cgroup_attach: no cgroup (create one first)");
    MW_RETURN_IF(pid <= 0, err, MW_ERR_INVALID, "mw_cgroup_attach: pid %d is not valid",
                 (int)pid);
    char path[PATH_MAX], val[24];
    MW_FORWARD(path_join(path, cg->path, "cgroup.procs", err));

    if (tree_is_fake(cg->path)) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return mw_err_errno(err, mw_status_from_errno(errno), errno,
                                "cannot add process %d to %s", (int)pid, path);
        int n = snprintf(val, sizeof val, "%d\n", (int)pid);
        ssize_t w = write(fd, val, (size_t)n);
        int e = errno;
        close(fd);
        if (w != n)
            return mw_err_errno(err, MW_ERR_IO, w < 0 ? e : 0,
                                "cannot add process %d to %s", (int)pid, path);
        return MW_OK;
    }

    snprintf(val, sizeof val, "%d", (int)pid);
    mw_err inner;
    mw_status st = mw_write_text(path, val, 0, &inner);
    if (st == MW_OK) return MW_OK;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "cannot move process %d into cgroup %.300s: it has exited",
                          (int)pid, cg->path);
    return mw_err_set(err, st, "cannot move process %d into the cgroup: %.380s%s", (int)pid,
                      inner.msg,
                      st == MW_ERR_PERMISSION ? ". Run as root, or own the cgroup and the "
                                                "process's current cgroup" :
                      st == MW_ERR_NOT_FOUND ? ". The cgroup was removed" : "");
}

/* ---- reading it ----------------------------------------------------------- */

static uint64_t read_u64_or_unknown(const char *dir, const char *file)
{
    char path[PATH_MAX];
    uint64_t v;
    if (path_join(path, dir, file, NULL) != MW_OK) return MW_UNKNOWN;
    if (mw_read_u64(path, &v, NULL) != MW_OK) return MW_UNKNOWN;
    return v;
}

static int read_small(const char *dir, const char *file, char *buf, size_t cap)
{
    char path[PATH_MAX];
    if (path_join(path, dir, file, NULL) != MW_OK) return 0;
    return mw_read_text(path, buf, cap, NULL, NULL) == MW_OK;
}

static uint64_t field_or_unknown(const char *text, const char *key)
{
    uint64_t v;
    return mw_text_field_u64(text, key, &v) ? v : MW_UNKNOWN;
}

/* The cgroup's own refaults from memory.stat (v1 and v2 name them alike;
 * v1 prefixes the hierarchical sums with total_). A sweep's paging evidence
 * must be its point's, not the system's: another process thrashing at the
 * same time is not this point paging. */
void mw_cgroup_parse_refaults(const char *stat, mw_cgroup_version version, uint64_t *anon, uint64_t *file)
{
    const char *pre = version == MW_CGROUP_V1 ? "total_" : "";
    char key[64];
    snprintf(key, sizeof key, "%sworkingset_refault_anon", pre);
    *anon = field_or_unknown(stat, key);
    snprintf(key, sizeof key, "%sworkingset_refault_file", pre);
    *file = field_or_unknown(stat, key);
    if (*file == MW_UNKNOWN) { /* before Linux 5.9: one counter, of file pages mostly */
        snprintf(key, sizeof key, "%sworkingset_refault", pre);
        *file = field_or_unknown(stat, key);
    }
}

static void read_refaults(const char *dir, mw_cgroup_version version, mw_cgroup_stats *st)
{
    char buf[16384]; /* memory.stat: ~1.5 KiB (v2) to ~4 KiB (v1, with total_*) */
    if (read_small(dir, "memory.stat", buf, sizeof buf))
        mw_cgroup_parse_refaults(buf, version, &st->refaults_anon, &st->refaults_file);
}

mw_status mw_cgroup_read(const mw_cgroup *cg, mw_cgroup_stats *st, mw_err *err)
{
    MW_RETURN_IF(!cg || !st, err, MW_ERR_INVALID, "mw_cgroup_read: cg and st are required");
    st->current_bytes = st->peak_bytes = MW_UNKNOWN;
    st->swap_current_bytes = st->swap_peak_bytes = MW_UNKNOWN;
    st->oom_events = st->oom_kills = st->limit_hits = MW_UNKNOWN;
    st->psi_some_seconds = st->psi_full_seconds = -1.0;
    st->refaults_anon = st->refaults_file = MW_UNKNOWN;
    MW_RETURN_IF(!cg->path[0], err, MW_ERR_INVALID, "mw_cgroup_read: no cgroup");

    struct stat sb;
    if (stat(cg->path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "cgroup %.300s is gone (removed, or never made); nothing to read",
                          cg->path);

    const char *d = cg->path;
    char buf[4096];
    read_refaults(d, cg->version, st);
    if (cg->version == MW_CGROUP_V2) {
        st->current_bytes = read_u64_or_unknown(d, "memory.current");
        st->peak_bytes = read_u64_or_unknown(d, "memory.peak");
        st->swap_current_bytes = read_u64_or_unknown(d, "memory.swap.current");
        st->swap_peak_bytes = read_u64_or_unknown(d, "memory.swap.peak");
        if (read_small(d, "memory.events", buf, sizeof buf)) {
            st->oom_events = field_or_unknown(buf, "oom");
            st->oom_kills = field_or_unknown(buf, "oom_kill");
            st->limit_hits = field_or_unknown(buf, "max");
        }
        if (read_small(d, "memory.pressure", buf, sizeof buf))
            mw_psi_parse(buf, &st->psi_some_seconds, &st->psi_full_seconds);
        return MW_OK;
    }

    /* v1 */
    st->current_bytes = read_u64_or_unknown(d, "memory.usage_in_bytes");
    st->peak_bytes = read_u64_or_unknown(d, "memory.max_usage_in_bytes");
    uint64_t memsw = read_u64_or_unknown(d, "memory.memsw.usage_in_bytes");
    uint64_t memsw_max = read_u64_or_unknown(d, "memory.memsw.max_usage_in_bytes");
    if (memsw != MW_UNKNOWN && st->current_bytes != MW_UNKNOWN)
        st->swap_current_bytes = memsw > st->current_bytes ? memsw - st->current_bytes : 0;
    /* v1 has no swap high-water mark of its own. memsw.max_usage is the peak
     * of memory+swap and max_usage the peak of memory, which may fall at
     * different moments, so their difference is only an approximation (a
     * lower bound of the swap in use when memory+swap peaked). */
    if (memsw_max != MW_UNKNOWN && st->peak_bytes != MW_UNKNOWN)
        st->swap_peak_bytes = memsw_max > st->peak_bytes ? memsw_max - st->peak_bytes : 0;
    /* "oom_kill N" appeared in Linux 4.13; older kernels leave it UNKNOWN */
    if (read_small(d, "memory.oom_control", buf, sizeof buf))
        st->oom_kills = field_or_unknown(buf, "oom_kill");
    /* A charge tries memsw first and memory only when memsw took it, so a
     * failed charge counts in exactly one of the two failcnts: add them.
     * Kernels with page_counter.track_failcnt (6.13+) count failures of the
     * memory counter only, so memsw.failcnt stays 0 and a hit on the memsw
     * limit (always the one hit first when swap is capped at 0) goes
     * uncounted; every memcg OOM kill follows a failed charge, so the kills
     * are a lower bound. */
    uint64_t failcnt = read_u64_or_unknown(d, "memory.failcnt");
    uint64_t memsw_failcnt = read_u64_or_unknown(d, "memory.memsw.failcnt");
    if (failcnt != MW_UNKNOWN) {
        st->limit_hits = failcnt;
        if (memsw_failcnt != MW_UNKNOWN) st->limit_hits += memsw_failcnt;
        if (st->oom_kills != MW_UNKNOWN && st->oom_kills > st->limit_hits)
            st->limit_hits = st->oom_kills;
    }
    /* v1 has no per-cgroup PSI, and no count of OOM events apart from kills */
    return MW_OK;
}

/* ---- the processes in it ---------------------------------------------------- */

/* Reads cgroup.procs; *text NULL (and MW_OK) when a fake tree has none. */
static mw_status read_procs(const mw_cgroup *cg, char **text, mw_err *err)
{
    *text = NULL;
    MW_RETURN_IF(!cg || !cg->path[0], err, MW_ERR_INVALID, "no cgroup (create one first)");
    char path[PATH_MAX];
    MW_FORWARD(path_join(path, cg->path, "cgroup.procs", err));
    mw_err inner;
    mw_status st = read_whole(path, text, NULL, &inner);
    if (st == MW_OK) return MW_OK;
    struct stat sb;
    if (st == MW_ERR_NOT_FOUND) {
        if (stat(cg->path, &sb) == 0 && S_ISDIR(sb.st_mode)) return MW_OK;
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "cgroup %.300s is gone (removed, or never made)", cg->path);
    }
    if (err) *err = inner;
    return st;
}

mw_status mw_cgroup_pids(const mw_cgroup *cg, pid_t *pids, size_t cap, size_t *n, mw_err *err)
{
    char *text;
    if (n) *n = 0;
    MW_FORWARD(read_procs(cg, &text, err));
    size_t count = 0;
    for (const char *p = text; p && *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) { p++; continue; }
        if (v > 0) {
            if (count < cap && pids) pids[count] = (pid_t)v;
            count++;
        }
        p = end;
    }
    mw_free(text);
    if (n) *n = count;
    return MW_OK;
}

mw_status mw_cgroup_kill_all(const mw_cgroup *cg, mw_err *err)
{
    MW_RETURN_IF(!cg || !cg->path[0], err, MW_ERR_INVALID,
                 "mw_cgroup_kill_all: no cgroup (create one first)");
    int fake = tree_is_fake(cg->path);

    if (cg->version == MW_CGROUP_V2 && file_exists(cg->path, "cgroup.kill")) {
        char path[PATH_MAX];
        MW_FORWARD(path_join(path, cg->path, "cgroup.kill", err));
        mw_err inner;
        if (mw_write_text(path, "1", 0, &inner) == MW_OK) return MW_OK;
        /* fall back to killing them one by one */
    }

    pid_t self = getpid();
    /* a process may fork between the read and the kill: go over the list
     * again until it is empty (a fake tree's list never empties: once) */
    for (int pass = 0; pass < (fake ? 1 : 50); pass++) {
        char *text;
        MW_FORWARD(read_procs(cg, &text, err));
        int seen = 0;
        for (const char *p = text; p && *p;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p) { p++; continue; }
            p = end;
            if (v <= 1 || (pid_t)v == self) continue;
            seen = 1;
            if (kill((pid_t)v, SIGKILL) != 0 && errno != ESRCH) {
                int e = errno;
                mw_free(text);
                return mw_err_errno(err, mw_status_from_errno(e), e,
                                    "cannot kill process %ld of cgroup %.300s", v, cg->path);
            }
        }
        mw_free(text);
        if (!seen) break;
        if (!fake) sleep_ms(2);
    }
    return MW_OK;
}

mw_status mw_cgroup_destroy(mw_cgroup *cg, mw_err *err)
{
    if (!cg || !cg->path[0]) return MW_OK;
    struct stat sb;
    if (lstat(cg->path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        cg->path[0] = '\0';
        return MW_OK;
    }
    int fake = tree_is_fake(cg->path);
    /* the kernel drops a killed process from the cgroup a moment after its
     * exit; retry EBUSY for about a second */
    for (int tries = 0;; tries++) {
        if (remove_cgroup_dir(cg->path, fake) == 0 || errno == ENOENT) break;
        int e = errno;
        if (e == EBUSY && tries < 100) {
            sleep_ms(10);
            continue;
        }
        if (e == EBUSY)
            return mw_err_set(err, MW_ERR_IO,
                              "cannot remove cgroup %.300s: it still has processes after 1 s. "
                              "Kill them (see its cgroup.procs) and rmdir it", cg->path);
        if (e == ENOTEMPTY)
            return mw_err_set(err, MW_ERR_IO,
                              "cannot remove cgroup %.300s: it holds files or cgroups that "
                              "memwall did not make. Remove them, then rmdir it", cg->path);
        return mw_err_errno(err, mw_status_from_errno(e), e,
                            "cannot remove cgroup %.300s (rmdir)", cg->path);
    }
    cg->path[0] = '\0';
    return MW_OK;
}

int mw_cgroup_is_real(const mw_cgroup *cg)
{
    return cg && cg->path[0] && !tree_is_fake(cg->path);
}

/* ---- PSI -------------------------------------------------------------------- */

static int psi_line_total(const char *text, const char *kind, double *out)
{
    size_t klen = strlen(kind);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol) eol = line + strlen(line);
        if (strncmp(line, kind, klen) == 0 && (line[klen] == ' ' || line[klen] == '\t')) {
            for (const char *p = line + klen; p < eol; p++) {
                if (strncmp(p, "total=", 6) == 0 && (p[-1] == ' ' || p[-1] == '\t')) {
                    char *end;
                    unsigned long long us = strtoull(p + 6, &end, 10);
                    if (end == p + 6) return 0;
                    *out = (double)us / 1e6;
                    return 1;
                }
            }
            return 0;
        }
        line = *eol ? eol + 1 : eol;
    }
    return 0;
}

int mw_psi_parse(const char *text, double *some_seconds, double *full_seconds)
{
    double some = -1.0, full = -1.0;
    int ok = text && psi_line_total(text, "some", &some);
    if (ok) psi_line_total(text, "full", &full);
    else some = -1.0;
    if (some_seconds) *some_seconds = some;
    if (full_seconds) *full_seconds = full;
    return ok;
}

/* ---- issue #16: the limited cgroup memwall runs in ------------------------ */

/* The limit in a v1 or v2 limit file's text; MW_UNLIMITED for none. */
static uint64_t parse_limit(const char *text, mw_cgroup_version v)
{
    while (*text == ' ') text++;
    if (v == MW_CGROUP_V2 && !strncmp(text, "max", 3)) return MW_UNLIMITED;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(text, &end, 10);
    if (end == text || errno) return MW_UNKNOWN;
    if (v == MW_CGROUP_V1 && x >= MW_CGROUP_V1_UNLIMITED_MIN) return MW_UNLIMITED;
    return (uint64_t)x;
}

mw_status mw_cgroup_find_limited(const mw_cgroup_fs *fs, mw_cgroup *cg, mw_err *err)
{
    MW_RETURN_IF(!fs || !cg, err, MW_ERR_INVALID, "mw_cgroup_find_limited: fs and cg are required");
    MW_RETURN_IF(fs->version != MW_CGROUP_V1 && fs->version != MW_CGROUP_V2, err, MW_ERR_UNSUPPORTED,
                 "no memory cgroup hierarchy");
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s", fs->self[0] ? fs->self : "/");
    for (;;) {
        char dir[PATH_MAX], buf[64];
        /* mount + rel, "/" adding nothing */
        if (snprintf(dir, sizeof dir, "%s%s", fs->mount, strcmp(rel, "/") ? rel : "") >= (int)sizeof dir) break;
        if (read_small(dir, limit_main_file(fs->version), buf, sizeof buf)) {
            uint64_t lim = parse_limit(buf, fs->version);
            if (lim != MW_UNLIMITED && lim != MW_UNKNOWN) {
                memset(cg, 0, sizeof *cg);
                cg->version = fs->version;
                snprintf(cg->path, sizeof cg->path, "%s", dir);
                cg->limit_bytes = lim;
                cg->swap_limit_bytes = MW_UNLIMITED;
                if (fs->version == MW_CGROUP_V2 && read_small(dir, "memory.swap.max", buf, sizeof buf)) {
                    cg->has_swap_control = 1;
                    cg->swap_limit_bytes = parse_limit(buf, MW_CGROUP_V2);
                } else if (fs->version == MW_CGROUP_V1 &&
                           read_small(dir, "memory.memsw.limit_in_bytes", buf, sizeof buf)) {
                    uint64_t memsw = parse_limit(buf, MW_CGROUP_V1);
                    cg->has_swap_control = 1;
                    /* memsw is memory + swap: the swap on top is the difference */
                    if (memsw != MW_UNLIMITED && memsw != MW_UNKNOWN)
                        cg->swap_limit_bytes = memsw > lim ? memsw - lim : 0;
                }
                return MW_OK;
            }
        }
        if (!strcmp(rel, "/")) break;
        char *slash = strrchr(rel, '/');
        if (!slash) break;
        if (slash == rel) rel[1] = '\0';
        else *slash = '\0';
    }
    return mw_err_set(err, MW_ERR_NOT_FOUND, "no memory cgroup with a limit at or above %s%s", fs->mount,
                      fs->self);
}
