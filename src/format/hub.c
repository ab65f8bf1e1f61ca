/*
 * hub.c - a Hugging Face model id read from the local hub cache.
 *
 * The cache's layout and where it is are huggingface_hub's (its guide
 * "Understand caching" and package reference "Environment variables"):
 *
 *   <cache>/models--<org>--<name>/refs/main         a commit hash
 *                                 snapshots/<hash>/  config.json, weights
 *                                                    (links into blobs/)
 *                                 blobs/<etag>       the files' bytes
 *
 *   <cache> = $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE (its legacy
 *             name), else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
 *             else ~/.cache/huggingface/hub; a leading "~/" is the home
 *             (huggingface_hub src/huggingface_hub/constants.py: HF_HOME,
 *             default_cache_path, HUGGINGFACE_HUB_CACHE, HF_HUB_CACHE)
 *
 * refs/<revision> is a file with the hash only; it is read through
 * mw_file_read_all (a FIFO, a device or a huge file is refused, a link
 * loop fails to open), so nothing here can block or read without bound.
 */
#include "format/hub.h"
#include "common/error.h"
#include "common/fileio.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static int id_char(int c) { return isalnum(c) || c == '.' || c == '_' || c == '-'; }

int mw_hub_id_like(const char *what)
{
    if (!what || !id_char((unsigned char)what[0]) || what[0] == '.' || what[0] == '-') return 0;
    const char *slash = strchr(what, '/');
    if (!slash || slash == what) return 0;
    const char *name = slash + 1;
    if (!*name || *name == '.' || *name == '-' || *name == '@') return 0;
    const char *end = strchr(name, '@');
    if (!end) end = name + strlen(name);
    for (const char *p = what; p < end; p++)
        if (p != slash && !id_char((unsigned char)*p)) return 0;
    if (strstr(what, "..")) return 0;
    return 1;
}

/* v with a leading "~/" (or "~" alone) as $HOME, then suffix */
static int expand(char *buf, size_t cap, const char *v, const char *suffix)
{
    const char *home = getenv("HOME");
    if (v[0] == '~' && (v[1] == '/' || !v[1]) && home && *home)
        return snprintf(buf, cap, "%s%s%s", home, v + 1, suffix);
    return snprintf(buf, cap, "%s%s", v, suffix);
}

int mw_hub_cache_dir(char *buf, size_t cap, const char **how)
{
    const char *v;
    int n;
    const char *h = NULL;
    if ((v = getenv("HF_HUB_CACHE")) && *v) {
        n = expand(buf, cap, v, "");
        h = "$HF_HUB_CACHE";
    } else if ((v = getenv("HUGGINGFACE_HUB_CACHE")) && *v) {
        n = expand(buf, cap, v, "");
        h = "$HUGGINGFACE_HUB_CACHE";
    } else if ((v = getenv("HF_HOME")) && *v) {
        n = expand(buf, cap, v, "/hub");
        h = "$HF_HOME/hub";
    } else if ((v = getenv("XDG_CACHE_HOME")) && *v) {
        n = expand(buf, cap, v, "/huggingface/hub");
        h = "$XDG_CACHE_HOME/huggingface/hub";
    } else if ((v = getenv("HOME")) && *v) {
        n = snprintf(buf, cap, "%s/.cache/huggingface/hub", v);
        h = "~/.cache/huggingface/hub";
    } else {
        return -1;
    }
    if (how) *how = h;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static const char *base_name(const char *dir, size_t *len)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    *len = n - b;
    return dir + b;
}

int mw_hub_is_repo_folder(const char *dir)
{
    size_t len;
    const char *b = base_name(dir, &len);
    if (len <= 8 || strncmp(b, "models--", 8) != 0) return 0;
    const char *sep = b + 8;
    for (const char *p = sep; p + 1 < b + len; p++)
        if (p[0] == '-' && p[1] == '-' && p > sep && p + 2 < b + len) return 1;
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* "a, b, c" of the snapshot folders in repo/snapshots (at most cap bytes);
 * @return how many there are, -1 without the folder. */
static int list_snapshots(const char *repo, char *names, size_t cap, char *first, size_t first_cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/snapshots", repo);
    names[0] = '\0';
    if (first_cap) first[0] = '\0';
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    size_t len = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char shown[96];
        mw_shown_str(e->d_name, shown, sizeof shown);
        if (!n && first_cap) snprintf(first, first_cap, "%s", shown);
        if (len + 4 < cap) {
            int k = snprintf(names + len, cap - len, "%s%s", n ? ", " : "", shown);
            if (k > 0) len += (size_t)k < cap - len ? (size_t)k : cap - len - 1;
        }
        n++;
    }
    closedir(d);
    return n;
}

static int is_hash(const char *s, size_t n)
{
    if (n != 40 && n != 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

static int normalize(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c)) out[k++] = (char)tolower(c);
    }
    out[k] = '\0';
    return (int)k;
}

const char *mw_hub_matching_preset(const char *id)
{
    const char *slash = id ? strchr(id, '/') : NULL;
    const char *name = slash ? slash + 1 : id;
    if (!name) return NULL;
    size_t n = strcspn(name, "@");
    char want[256], have[256];
    if (normalize(name, n, want, sizeof want) == 0) return NULL;
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *const *p = mw_preset_names(); *p; p++) {
        int k = normalize(*p, strlen(*p), have, sizeof have);
        if (k == 0) continue;
        if (!strcmp(want, have)) return *p;      /* the same name */
        /* contained: "Meta-Llama-3-8B-Instruct" holds "llama38b" */
        if (strstr(want, have) && (size_t)k > best_len) {
            best = *p;
            best_len = (size_t)k;
        }
    }
    return best;
}

/* The snapshot a repo folder's refs/<rev> names (or rev itself when it is
 * a hash with a snapshot). shown_id: for messages. */
static mw_status resolve_repo(const char *repo, const char *id, const char *rev, char *snapshot, size_t cap,
                              mw_err *err)
{
    char path[4096], names[256], first[96];
    char shown_rev[96];
    mw_shown_str(rev, shown_rev, sizeof shown_rev);
    int n_snap = list_snapshots(repo, names, sizeof names, first, sizeof first);
    MW_RETURN_IF(n_snap < 0, err, MW_ERR_NOT_FOUND,
                 "%s: no snapshots/ folder: not a complete hub download of %s (download it again: "
                 "huggingface-cli download %s)", repo, id, id);
    MW_RETURN_IF(n_snap == 0, err, MW_ERR_NOT_FOUND,
                 "%s/snapshots is empty: no files of %s were downloaded (huggingface-cli download %s)",
                 repo, id, id);
    /* a commit hash with its snapshot needs no ref */
    if (is_hash(rev, strlen(rev))) {
        snprintf(path, sizeof path, "%s/snapshots/%s", repo, rev);
        if (is_dir(path)) {
            MW_RETURN_IF((size_t)snprintf(snapshot, cap, "%s", path) >= cap, err, MW_ERR_INVALID,
                         "%s: the path is too long", path);
            return MW_OK;
        }
    }
    snprintf(path, sizeof path, "%s/refs/%s", repo, rev);
    if (!exists(path))
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "%s is missing, so which snapshot is \"%s\" is unknown; snapshots there: %s. "
                          "Pass one folder: %s/snapshots/%s",
                          path, shown_rev, names, repo, first);
    char *text = NULL;
    size_t len = 0;
    mw_err e2;
    if (mw_file_read_all(path, 1 << 20, "a hub ref (a commit hash)", &text, &len, &e2) != MW_OK)
        return mw_err_set(err, e2.status == MW_ERR_NOMEM ? MW_ERR_NOMEM : MW_ERR_INVALID,
                          "cannot read the ref of %s: %s", id, e2.msg);
    size_t b = 0, e = len;
    while (b < e && isspace((unsigned char)text[b])) b++;
    while (e > b && isspace((unsigned char)text[e - 1])) e--;
    char hash[65], shown[96];
    int ok = is_hash(text + b, e - b);
    if (ok) {
        memcpy(hash, text + b, e - b);
        hash[e - b] = '\0';
    } else {
        mw_shown(text + b, e - b > 64 ? 64 : e - b, shown, sizeof shown);
    }
    mw_free(text);
    if (!ok)
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: %s, not a commit hash (40 or 64 hex digits); snapshots there: %s. "
                          "Pass one folder: %s/snapshots/%s",
                          path, e == b ? "empty" : shown, names, repo, first);
    snprintf(path, sizeof path, "%s/snapshots/%s", repo, hash);
    if (!is_dir(path))
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "%s/refs/%s names snapshot %s, which is not there (snapshots: %s): an "
                          "interrupted download? huggingface-cli download %s",
                          repo, shown_rev, hash, names, id);
    MW_RETURN_IF((size_t)snprintf(snapshot, cap, "%s", path) >= cap, err, MW_ERR_INVALID,
                 "%s: the path is too long", path);
    return MW_OK;
}

mw_status mw_hub_resolve(const char *id, char *snapshot, size_t cap, mw_err *err)
{
    MW_RETURN_IF(!mw_hub_id_like(id), err, MW_ERR_INVALID, "\"%s\" is not a hub model id (org/name)", id);
    char org_name[256], rev[128] = "main", cache[2048], repo[4096];
    const char *at = strchr(id, '@');
    size_t n = at ? (size_t)(at - id) : strlen(id);
    MW_RETURN_IF(n >= sizeof org_name, err, MW_ERR_INVALID, "hub model id too long: %.64s...", id);
    memcpy(org_name, id, n);
    org_name[n] = '\0';
    if (at) {
        MW_RETURN_IF(!at[1] || strlen(at + 1) >= sizeof rev || strstr(at + 1, "..") || at[1] == '/', err,
                     MW_ERR_INVALID, "%s: the revision after '@' must be a branch, tag or commit hash",
                     id);
        snprintf(rev, sizeof rev, "%s", at + 1);
    }
    const char *how = NULL;
    MW_RETURN_IF(mw_hub_cache_dir(cache, sizeof cache, &how) != 0, err, MW_ERR_NOT_FOUND,
                 "%s: no Hugging Face cache to look in (set HF_HOME or HF_HUB_CACHE)", id);
    const char *slash = strchr(org_name, '/');
    snprintf(repo, sizeof repo, "%s/models--%.*s--%s", cache, (int)(slash - org_name), org_name, slash + 1);
    if (!is_dir(repo)) {
        const char *preset = mw_hub_matching_preset(org_name);
        char also[160] = "";
        if (preset)
            snprintf(also, sizeof also, ", or plan the preset of the same model without its files: %s",
                     preset);
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "%s is not in the Hugging Face cache (no %s; the cache is %s) and no file or "
                          "folder has that name; memwall downloads nothing: huggingface-cli download %s%s",
                          org_name, repo, how, org_name, also);
    }
    return resolve_repo(repo, org_name, rev, snapshot, cap, err);
}

mw_status mw_hub_resolve_folder(const char *dir, char *snapshot, size_t cap, char *id, size_t idcap,
                                mw_err *err)
{
    size_t len;
    const char *b = base_name(dir, &len);
    MW_RETURN_IF(!mw_hub_is_repo_folder(dir), err, MW_ERR_INVALID,
                 "%s is not a hub cache folder (models--ORG--NAME)", dir);
    /* models--org--name: the first "--" after the prefix ends org */
    const char *rest = b + 8, *end = b + len;
    const char *sep = NULL;
    for (const char *p = rest + 1; p + 1 < end; p++)
        if (p[0] == '-' && p[1] == '-') { sep = p; break; }
    MW_RETURN_IF(!sep || sep + 2 >= end, err, MW_ERR_INVALID, "%s is not a hub cache folder (models--ORG--NAME)",
                 dir);
    int k = snprintf(id, idcap, "%.*s/%.*s", (int)(sep - rest), rest, (int)(end - sep - 2), sep + 2);
    MW_RETURN_IF(k < 0 || (size_t)k >= idcap, err, MW_ERR_INVALID, "%s: the folder's name is too long", dir);
    char repo[4096];
    snprintf(repo, sizeof repo, "%.*s", (int)(end - dir), dir);
    return resolve_repo(repo, id, "main", snapshot, cap, err);
}

int mw_hub_file_like(const char *what, size_t *id_len)
{
    if (!what) return 0;
    const char *s1 = strchr(what, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s2 || !s2[1]) return 0;
    char id[512];
    size_t n = (size_t)(s2 - what);
    if (n >= sizeof id) return 0;
    memcpy(id, what, n);
    id[n] = '\0';
    if (!mw_hub_id_like(id)) return 0;
    /* PATH: relative components, none empty, "." or ".." */
    for (const char *c = s2 + 1; *c;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) return 0;
        c += len + (e ? 1 : 0);
        if (e && !*c) return 0; /* a trailing '/' */
    }
    if (id_len) *id_len = n;
    return 1;
}

mw_status mw_hub_resolve_path(const char *what, char *path, size_t cap, char *id, size_t idcap, mw_err *err)
{
    size_t n = 0;
    const char *sub = NULL;
    if (mw_hub_id_like(what)) n = strlen(what);
    else if (mw_hub_file_like(what, &n)) sub = what + n + 1;
    else return mw_err_set(err, MW_ERR_INVALID, "\"%s\" is not a hub model id (org/name[/FILE])", what);
    char hub_id[512], snapshot[4096];
    snprintf(hub_id, sizeof hub_id, "%.*s", (int)n, what);
    MW_FORWARD(mw_hub_resolve(hub_id, snapshot, sizeof snapshot, err));
    const char *at = strchr(hub_id, '@');
    size_t idn = at ? (size_t)(at - hub_id) : strlen(hub_id);
    int k = sub ? snprintf(id, idcap, "%.*s/%s", (int)idn, hub_id, sub) : snprintf(id, idcap, "%.*s", (int)idn, hub_id);
    MW_RETURN_IF(k < 0 || (size_t)k >= idcap, err, MW_ERR_INVALID, "%s: the name is too long", what);
    k = sub ? snprintf(path, cap, "%s/%s", snapshot, sub) : snprintf(path, cap, "%s", snapshot);
    MW_RETURN_IF(k < 0 || (size_t)k >= cap, err, MW_ERR_INVALID, "%s: the path in the cache is too long", what);
    if (sub && !exists(path)) {
        char names[512];
        int count;
        mw_dir_list_suffix(snapshot, "", names, sizeof names, &count);
        return mw_err_set(err, MW_ERR_NOT_FOUND, "%.*s has no %s in the cache (its snapshot %s holds: %s)",
                          (int)idn, hub_id, sub, snapshot, count ? names : "nothing");
    }
    return MW_OK;
}

mw_status mw_hub_single_gguf(const char *id, const char *dir, char *path, size_t cap, mw_err *err)
{
    char names[512];
    int count;
    mw_dir_list_suffix(dir, ".gguf", names, sizeof names, &count);
    MW_RETURN_IF(count == 0, err, MW_ERR_NOT_FOUND,
                 "%s holds no GGUF file (its snapshot is %s): memwall run and sweep run GGUF models; "
                 "plan and inspect read its config.json and safetensors", id, dir);
    MW_RETURN_IF(count > 1, err, MW_ERR_INVALID,
                 "%s holds %d GGUF files (%s): name one, as %s/FILE.gguf", id, count, names, id);
    int k = snprintf(path, cap, "%s/%s", dir, names);
    MW_RETURN_IF(k < 0 || (size_t)k >= cap, err, MW_ERR_INVALID, "%s: the path in the cache is too long", id);
    return MW_OK;
}
