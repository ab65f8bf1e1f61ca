/*
 * safetensors.c - safetensors files (huggingface/safetensors README), one
 * file or shards listed by a model.safetensors.index.json.
 *
 *   [u64 LE N][N bytes of JSON header, '{' first, maybe space-padded][buffer]
 *
 * The header is untrusted: every entry is checked on its own (dtype known,
 * shape of non-negative integers, data_offsets inside the buffer and equal to
 * dtype x shape), then all together (no duplicate names; sorted by offset the
 * tensors tile the buffer exactly: no overlap, no hole, nothing left over).
 * Errors name the file, the tensor and the byte offsets.
 *
 * Only the header is read: the files are mapped (read-only) so the weights
 * can be used in place later, and the model keeps the mappings (m->impl).
 */
#include "format/safetensors.h"
#include "format/hf_config.h"
#include "format/model_build.h"
#include "common/error.h"
#include "common/fileio.h"

#include <cjson/cJSON.h>
#include "common/json.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* model.safetensors.index.json files are a few MiB for the largest models. */
#define INDEX_MAX_BYTES (64u << 20)
/* cJSON keeps numbers as doubles: integers below 2^53 are exact. */
#define JSON_INT_LIMIT 9007199254740992.0
/* Tensor names are printed at most this long in messages (MW_ERR_MSG_CAP). */
#define NAME_SHOWN 120

static const char known_dtypes[] =
    "BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2";

/* A name or dtype from the file, for a message: escaped and cut (mw_shown),
 * so it can neither send escape codes nor crowd out the message. The buffer
 * is a compound literal: it lives to the end of the enclosing block. */
#define SHOWN(s) mw_shown_str((s), (char[NAME_SHOWN + 4]){0}, NAME_SHOWN + 4)

static uint64_t alloc_failures(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.failures;
}

/* cJSON says only "NULL" when a parse fails; when its allocations go through
 * the counting allocator (common/json.h) an injected failure
 * must still read as out of memory, not as a malformed file. */
static int parse_failed_for_memory(uint64_t failures_before)
{
    return alloc_failures() != failures_before;
}

/* 1 when v is an integer in [0, 2^53) (exact in a double), stored in *out.
 * Above 2^52 a fractional text rounds to an integer, but such values are
 * never valid offsets (no buffer is 4 PiB) and only harmless shape dims of
 * an empty tensor. */
static int json_u64(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d < JSON_INT_LIMIT)) return 0;
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return 0;
    *out = u;
    return 1;
}

/* ---- one file's header --------------------------------------------------- */

typedef struct st_entry {
    const char *name;              /* into the cJSON tree                */
    mw_dtype dtype;
    uint32_t n_dims;
    uint64_t shape[MW_MAX_DIMS];
    uint64_t begin, end;           /* data_offsets, relative to the buffer */
    uint32_t order;                /* position in the header (stable sorts) */
} st_entry;

static int cmp_name(const void *a, const void *b)
{
    const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return (x->order > y->order) - (x->order < y->order);
}

static int cmp_offset(const void *a, const void *b)
{
    const st_entry *x = *(const st_entry *const *)a, *y = *(const st_entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

/* "[4096, 11008]" into buf. */
static const char *shape_text(const st_entry *t, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < t->n_dims && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%llu", i ? ", " : "",
                              (unsigned long long)t->shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

static mw_status check_metadata(const cJSON *item, const char *where, mw_err *err)
{
    MW_RETURN_IF(!cJSON_IsObject(item), err, MW_ERR_INVALID,
                 "%s: \"__metadata__\" in the header is not an object of strings", where);
    for (const cJSON *kv = item->child; kv; kv = kv->next)
        MW_RETURN_IF(!cJSON_IsString(kv), err, MW_ERR_INVALID,
                     "%s: \"__metadata__\" entry \"%s\" is not a string (the format allows "
                     "only string values)", where, SHOWN(kv->string));
    return MW_OK;
}

static mw_status parse_entry(const cJSON *item, st_entry *t, uint64_t buf_bytes,
                             uint64_t buf_start, const char *where, mw_err *err)
{
    const char *name = item->string;
    const char *nm = SHOWN(name);
    MW_RETURN_IF(!cJSON_IsObject(item), err, MW_ERR_INVALID,
                 "%s: header entry \"%s\" is not an object with dtype, shape and "
                 "data_offsets", where, nm);
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    /* cJSON keeps repeated keys: a field given twice is ambiguous. */
    for (const cJSON *f = item->child; f; f = f->next) {
        const cJSON **slot = !strcmp(f->string, "dtype")          ? &dtype
                             : !strcmp(f->string, "shape")        ? &shape
                             : !strcmp(f->string, "data_offsets") ? &offsets
                                                                  : NULL;
        if (!slot) continue; /* other fields are ignored, as the format's reader does */
        MW_RETURN_IF(*slot, err, MW_ERR_INVALID, "%s: tensor \"%s\" has \"%s\" twice", where,
                     nm, f->string);
        *slot = f;
    }
    MW_RETURN_IF(!dtype || !shape || !offsets, err, MW_ERR_INVALID,
                 "%s: tensor \"%s\" has no \"%s\"", where, nm,
                 !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

    MW_RETURN_IF(!cJSON_IsString(dtype), err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": \"dtype\" is not a string", where, nm);
    int found = 0;
    for (int i = 0; i < MW_DTYPE_COUNT && !found; i++) {
        const mw_dtype_info *d = mw_dtype_get((mw_dtype)i);
        if (d->safetensors && !strcmp(d->safetensors, dtype->valuestring)) {
            t->dtype = (mw_dtype)i;
            found = 1;
        }
    }
    MW_RETURN_IF(!found, err, MW_ERR_UNSUPPORTED,
                 "%s: tensor \"%s\" has unknown dtype \"%s\" (known: %s)", where, nm,
                 SHOWN(dtype->valuestring), known_dtypes);

    MW_RETURN_IF(!cJSON_IsArray(shape), err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": \"shape\" is not an array", where, nm);
    uint32_t nd = 0;
    uint64_t n_elems = 1;
    for (const cJSON *d = shape->child; d; d = d->next, nd++) {
        MW_RETURN_IF(nd == MW_MAX_DIMS, err, MW_ERR_UNSUPPORTED,
                     "%s: tensor \"%s\" has more than %d dimensions", where, nm,
                     MW_MAX_DIMS);
        uint64_t v;
        MW_RETURN_IF(!json_u64(d, &v), err, MW_ERR_INVALID,
                     "%s: tensor \"%s\": shape[%u] is not a non-negative integer below 2^53 "
                     "(%s%.17g)", where, nm, nd, cJSON_IsNumber(d) ? "" : "not a number: ",
                     cJSON_IsNumber(d) ? d->valuedouble : 0.0);
        MW_RETURN_IF(v != 0 && n_elems > UINT64_MAX / v, err, MW_ERR_INVALID,
                     "%s: tensor \"%s\": the element count of its shape overflows 64 bits",
                     where, nm);
        t->shape[nd] = v;
        n_elems *= v;
    }
    t->n_dims = nd;

    MW_RETURN_IF(!cJSON_IsArray(offsets) || !offsets->child || !offsets->child->next ||
                     offsets->child->next->next,
                 err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": \"data_offsets\" is not an array [begin, end]", where, nm);
    MW_RETURN_IF(!json_u64(offsets->child, &t->begin) ||
                     !json_u64(offsets->child->next, &t->end),
                 err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": data_offsets are not non-negative integers below 2^53",
                 where, nm);
    MW_RETURN_IF(t->begin > t->end, err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": data_offsets [%llu, %llu] are reversed (begin > end)",
                 where, nm, (unsigned long long)t->begin, (unsigned long long)t->end);
    MW_RETURN_IF(t->end > buf_bytes, err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": data_offsets [%llu, %llu] end past the %llu-byte buffer "
                 "(file bytes %llu..%llu; the file is truncated or the header is wrong)",
                 where, nm, (unsigned long long)t->begin, (unsigned long long)t->end,
                 (unsigned long long)buf_bytes, (unsigned long long)buf_start,
                 (unsigned long long)(buf_start + buf_bytes));
    uint64_t need = mw_dtype_bytes(t->dtype, n_elems);
    char sh[200]; /* 8 dims of up to 16 digits */
    MW_RETURN_IF(need == MW_UNKNOWN, err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": %s x %s overflows 64 bits", where, nm,
                 dtype->valuestring, shape_text(t, sh, sizeof sh));
    MW_RETURN_IF(t->end - t->begin != need, err, MW_ERR_INVALID,
                 "%s: tensor \"%s\": data_offsets [%llu, %llu] hold %llu bytes but %s x %s "
                 "needs %llu", where, nm, (unsigned long long)t->begin,
                 (unsigned long long)t->end, (unsigned long long)(t->end - t->begin),
                 dtype->valuestring, shape_text(t, sh, sizeof sh), (unsigned long long)need);
    t->name = name;
    return MW_OK;
}

/* The whole-header checks and the adds, once every entry is known good. */
static mw_status check_and_add(st_entry *ents, uint32_t n, uint64_t buf_bytes,
                               uint64_t buf_start, mw_model *m, uint32_t file,
                               const char *where, mw_err *err)
{
    st_entry **ord = mw_malloc((n ? n : 1) * sizeof *ord, MW_MEM_OTHER);
    MW_RETURN_IF(!ord, err, MW_ERR_NOMEM, "%s: out of memory checking %u tensors", where, n);
    for (uint32_t i = 0; i < n; i++) ord[i] = &ents[i];
    mw_status st = MW_OK;

    qsort(ord, n, sizeof *ord, cmp_name);
    for (uint32_t i = 1; i < n && st == MW_OK; i++)
        if (!strcmp(ord[i - 1]->name, ord[i]->name))
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: tensor \"%s\" appears twice in the header", where,
                            SHOWN(ord[i]->name));

    /* Sorted by offset the tensors must tile [0, buf_bytes): each begins
     * where the previous ended (empty tensors included). */
    if (st == MW_OK) qsort(ord, n, sizeof *ord, cmp_offset);
    uint64_t at = 0;
    const st_entry *prev = NULL;
    for (uint32_t i = 0; i < n && st == MW_OK; i++) {
        const st_entry *t = ord[i];
        if (t->begin < at)
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: tensor \"%s\" [%llu, %llu) overlaps tensor \"%s\" "
                            "[%llu, %llu) (buffer offsets)", where, SHOWN(t->name),
                            (unsigned long long)t->begin, (unsigned long long)t->end,
                            SHOWN(prev->name), (unsigned long long)prev->begin,
                            (unsigned long long)prev->end);
        else if (t->begin > at)
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: hole: buffer bytes [%llu, %llu) (file bytes %llu..%llu) "
                            "belong to no tensor (before \"%s\"; the format allows no holes)",
                            where, (unsigned long long)at, (unsigned long long)t->begin,
                            (unsigned long long)(buf_start + at),
                            (unsigned long long)(buf_start + t->begin), SHOWN(t->name));
        at = t->end;
        prev = t;
    }
    if (st == MW_OK && at != buf_bytes)
        st = mw_err_set(err, MW_ERR_INVALID,
                        "%s: buffer bytes [%llu, %llu) (file bytes %llu..%llu) after the last "
                        "tensor belong to no tensor (trailing data, or a tensor missing from "
                        "the header)", where, (unsigned long long)at,
                        (unsigned long long)buf_bytes, (unsigned long long)(buf_start + at),
                        (unsigned long long)(buf_start + buf_bytes));

    for (uint32_t i = 0; i < n && st == MW_OK; i++) {
        const st_entry *t = ord[i];
        st = mw_model_add_tensor(m, t->name, t->dtype, t->n_dims, t->shape,
                                 buf_start + t->begin, file, err);
    }
    mw_free(ord);
    return st;
}

static mw_status parse_header(const cJSON *root, uint64_t buf_bytes, uint64_t buf_start,
                              mw_model *m, uint32_t file, const char *where, mw_err *err)
{
    uint32_t n = 0;
    int have_meta = 0;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!strcmp(it->string, "__metadata__")) {
            MW_RETURN_IF(have_meta, err, MW_ERR_INVALID,
                         "%s: \"__metadata__\" appears twice in the header", where);
            MW_FORWARD(check_metadata(it, where, err));
            have_meta = 1;
            continue;
        }
        MW_RETURN_IF(n == UINT32_MAX / 2, err, MW_ERR_INVALID, "%s: too many tensors", where);
        n++;
    }
    st_entry *ents = mw_malloc((n ? n : 1) * sizeof *ents, MW_MEM_OTHER);
    MW_RETURN_IF(!ents, err, MW_ERR_NOMEM, "%s: out of memory reading %u tensors", where, n);
    mw_status st = MW_OK;
    uint32_t i = 0;
    for (const cJSON *it = root->child; it && st == MW_OK; it = it->next) {
        if (!strcmp(it->string, "__metadata__")) continue;
        memset(&ents[i], 0, sizeof ents[i]);
        ents[i].order = i;
        st = parse_entry(it, &ents[i], buf_bytes, buf_start, where, err);
        i++;
    }
    if (st == MW_OK) st = check_and_add(ents, n, buf_bytes, buf_start, m, file, where, err);
    mw_free(ents);
    return st;
}

mw_status mw_safetensors_parse(const void *data, size_t size, mw_model *m, uint32_t file,
                               mw_err *err)
{
    const char *where = file < m->n_files ? m->files[file] : m->path;
    const unsigned char *p = data;
    MW_RETURN_IF(size < 8, err, MW_ERR_INVALID,
                 "%s: %zu bytes, too short for a safetensors file (8-byte header length, then "
                 "the header)", where, size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | p[i];
    MW_RETURN_IF(n < 2, err, MW_ERR_INVALID,
                 "%s: header length %llu at byte 0 is too small (at least 2: \"{}\")", where,
                 (unsigned long long)n);
    MW_RETURN_IF(n > MW_SAFETENSORS_MAX_HEADER, err, MW_ERR_INVALID,
                 "%s: header length %llu at byte 0 exceeds the %u-byte limit (not a safetensors "
                 "file?)", where, (unsigned long long)n, MW_SAFETENSORS_MAX_HEADER);
    MW_RETURN_IF(n > size - 8, err, MW_ERR_INVALID,
                 "%s: header length %llu at byte 0 runs past the end of the %zu-byte file "
                 "(truncated?)", where, (unsigned long long)n, size);
    MW_RETURN_IF(p[8] != '{', err, MW_ERR_INVALID,
                 "%s: the header at byte 8 does not start with '{' (0x%02x)", where, p[8]);

    /* cJSON 1.7.15 can read one byte past the length it is given (cJSON
     * issues #775, #804): parse a NUL-terminated copy, so no byte after the
     * header is ever read. */
    char *text = mw_malloc((size_t)n + 1, MW_MEM_OTHER);
    MW_RETURN_IF(!text, err, MW_ERR_NOMEM, "%s: out of memory copying the %llu-byte header",
                 where, (unsigned long long)n);
    memcpy(text, p + 8, (size_t)n);
    text[n] = '\0';
    const char *end = NULL;
    uint64_t failures = alloc_failures();
    mw_json_init();
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)n, &end, 0);
    mw_status st = MW_OK;
    if (!root) {
        if (parse_failed_for_memory(failures))
            st = mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory parsing the header", where);
        else
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: the header is not valid JSON (error near file byte %llu)", where,
                            (unsigned long long)(8 + (end ? (uint64_t)(end - text) : 0)));
    } else {
        /* Padding after the object: whitespace only (the writers pad with spaces). */
        size_t pos = end ? (size_t)(end - text) : (size_t)n;
        while (pos < n && text[pos] && strchr(" \t\r\n", text[pos])) pos++;
        if (pos < n)
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: unexpected byte 0x%02x at file byte %llu after the header's "
                            "JSON object (only space padding may follow it)", where,
                            (unsigned char)text[pos], (unsigned long long)(8 + pos));
        else if (!cJSON_IsObject(root)) /* unreachable after the '{' check; kept for safety */
            st = mw_err_set(err, MW_ERR_INVALID, "%s: the header is not a JSON object", where);
        else
            st = parse_header(root, size - 8 - n, 8 + n, m, file, where, err);
    }
    cJSON_Delete(root);
    mw_free(text);
    return st;
}

/* ---- files and shards ------------------------------------------------------ */

typedef mw_file_map st_mapping;

typedef struct st_impl {
    struct mw_model_impl base;     /* first: the model's impl */
    uint32_t n;
    st_mapping maps[];             /* one per file of the model */
} st_impl;

static void impl_free(struct mw_model_impl *p)
{
    st_impl *impl = (st_impl *)p;
    if (!impl) return;
    for (uint32_t i = 0; i < impl->n; i++)
        mw_file_map_close(&impl->maps[i]);
    mw_free(impl);
}

static mw_status attach_impl(mw_model *m, uint32_t n_files, st_impl **out, mw_err *err)
{
    st_impl *impl = mw_calloc(1, sizeof *impl + (size_t)n_files * sizeof impl->maps[0],
                              MW_MEM_OTHER);
    MW_RETURN_IF(!impl, err, MW_ERR_NOMEM, "%s: out of memory", m->path);
    impl->n = n_files;
    impl->base.free = impl_free;
    m->impl = &impl->base;
    *out = impl;
    return MW_OK;
}

static mw_status open_and_parse(mw_model *m, st_mapping *map, const char *path, mw_err *err)
{
    uint32_t file;
    MW_FORWARD(mw_model_add_file(m, path, &file, err));
    MW_FORWARD(mw_file_map_open(path, map, err));
    return mw_safetensors_parse(map->addr ? map->addr : "", map->len, m, file, err);
}

/* The path of file `name` in the folder of `path` ("a/b.json", "c" -> "a/c";
 * "b.json", "c" -> "c"). NULL when out of memory. */
static char *sibling(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0, nl = strlen(name);
    char *p = mw_malloc(dl + nl + 1, MW_MEM_OTHER);
    if (!p) return NULL;
    memcpy(p, path, dl);
    memcpy(p + dl, name, nl + 1);
    return p;
}

static mw_status read_index(const char *path, char **out, size_t *out_len, mw_err *err)
{
    return mw_file_read_all(path, INDEX_MAX_BYTES, "a model.safetensors.index.json", out, out_len,
                            err);
}

/* A shard is named by a plain file name in the index's folder. */
static int shard_name_ok(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f) return 0;
    return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

typedef struct map_entry {
    const char *tensor;            /* into the index's cJSON tree        */
    const char *shard;
    uint32_t file;                 /* index into m->files                */
} map_entry;

static int cmp_map_tensor(const void *a, const void *b)
{
    return strcmp(((const map_entry *)a)->tensor, ((const map_entry *)b)->tensor);
}

static int cmp_map_shard(const void *a, const void *b)
{
    const map_entry *x = a, *y = b;
    int c = strcmp(x->shard, y->shard);
    return c ? c : strcmp(x->tensor, y->tensor);
}

static int cmp_tensor_ptr(const void *a, const void *b)
{
    const mw_tensor_info *x = *(const mw_tensor_info *const *)a;
    const mw_tensor_info *y = *(const mw_tensor_info *const *)b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return (x->file > y->file) - (x->file < y->file);
}

/* Every tensor of the map is in the shard it names, and every tensor of the
 * shards is in the map (both lists sorted by name, walked together). */
static mw_status cross_check(const mw_model *m, map_entry *map, uint32_t n_map,
                             const char *index, mw_err *err)
{
    const mw_tensor_info **ts = mw_malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *ts,
                                          MW_MEM_OTHER);
    MW_RETURN_IF(!ts, err, MW_ERR_NOMEM, "%s: out of memory checking the weight map", index);
    for (uint32_t i = 0; i < m->n_tensors; i++) ts[i] = &m->tensors[i];
    qsort(ts, m->n_tensors, sizeof *ts, cmp_tensor_ptr);
    mw_status st = MW_OK;
    for (uint32_t i = 1; i < m->n_tensors && st == MW_OK; i++)
        if (!strcmp(ts[i - 1]->name, ts[i]->name))
            st = mw_err_set(err, MW_ERR_INVALID, "tensor \"%s\" is in two shards: %s and %s",
                            SHOWN(ts[i]->name), m->files[ts[i - 1]->file],
                            m->files[ts[i]->file]);
    uint32_t i = 0, j = 0;
    while (st == MW_OK && (i < n_map || j < m->n_tensors)) {
        int c = i == n_map ? 1 : j == m->n_tensors ? -1 : strcmp(map[i].tensor, ts[j]->name);
        if (c < 0)
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: weight_map puts tensor \"%s\" in %s, but no shard has it",
                            index, SHOWN(map[i].tensor), map[i].shard);
        else if (c > 0)
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: tensor \"%s\" is not in the weight_map of %s",
                            m->files[ts[j]->file], SHOWN(ts[j]->name), index);
        else if (map[i].file != ts[j]->file)
            st = mw_err_set(err, MW_ERR_INVALID,
                            "%s: weight_map puts tensor \"%s\" in %s, but it is in %s", index,
                            SHOWN(map[i].tensor), map[i].shard,
                            m->files[ts[j]->file]);
        i += c <= 0;
        j += c >= 0;
    }
    mw_free(ts);
    return st;
}

static mw_status open_index(mw_model *m, const char *path, const cJSON *root, mw_err *err)
{
    const cJSON *wm = NULL;
    if (cJSON_IsObject(root))
        for (const cJSON *e = root->child; e; e = e->next) {
            if (strcmp(e->string, "weight_map")) continue;
            MW_RETURN_IF(wm, err, MW_ERR_INVALID, "%s: \"weight_map\" appears twice", path);
            wm = e;
        }
    MW_RETURN_IF(!cJSON_IsObject(wm), err, MW_ERR_INVALID,
                 "%s: no \"weight_map\" object (not a model.safetensors.index.json?)", path);
    uint32_t n_map = 0;
    for (const cJSON *e = wm->child; e; e = e->next) {
        MW_RETURN_IF(!cJSON_IsString(e), err, MW_ERR_INVALID,
                     "%s: weight_map entry \"%s\" is not a string (a shard's file name)", path,
                     SHOWN(e->string));
        MW_RETURN_IF(!shard_name_ok(e->valuestring), err, MW_ERR_INVALID,
                     "%s: weight_map puts tensor \"%s\" in \"%s\": a shard must be a file "
                     "name in the index's folder (no '/' or control characters, not \".\" or "
                     "\"..\")", path,
                     SHOWN(e->string), SHOWN(e->valuestring));
        MW_RETURN_IF(n_map == UINT32_MAX / 2, err, MW_ERR_INVALID, "%s: too many tensors", path);
        n_map++;
    }
    MW_RETURN_IF(n_map == 0, err, MW_ERR_INVALID, "%s: the weight_map is empty", path);

    map_entry *map = mw_malloc(n_map * sizeof *map, MW_MEM_OTHER);
    MW_RETURN_IF(!map, err, MW_ERR_NOMEM, "%s: out of memory reading the weight map", path);
    uint32_t k = 0;
    for (const cJSON *e = wm->child; e; e = e->next)
        map[k++] = (map_entry){e->string, e->valuestring, 0};
    /* Shards in name order (model-00001-of-N first): sorted by shard, each
     * run of one shard name is one file. */
    qsort(map, n_map, sizeof *map, cmp_map_shard);
    uint32_t n_shards = 0;
    for (uint32_t i = 0; i < n_map; i++) {
        if (i > 0 && strcmp(map[i - 1].shard, map[i].shard)) n_shards++;
        map[i].file = n_shards;
    }
    n_shards++;
    qsort(map, n_map, sizeof *map, cmp_map_tensor);
    mw_status st = MW_OK;
    for (uint32_t i = 1; i < n_map && st == MW_OK; i++)
        if (!strcmp(map[i - 1].tensor, map[i].tensor))
            st = mw_err_set(err, MW_ERR_INVALID, "%s: weight_map lists tensor \"%s\" twice",
                            path, SHOWN(map[i].tensor));
    const char **shards = NULL;
    if (st == MW_OK) {
        shards = mw_calloc(n_shards, sizeof *shards, MW_MEM_OTHER);
        if (!shards) st = mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory", path);
    }
    for (uint32_t i = 0; i < n_map && st == MW_OK; i++) shards[map[i].file] = map[i].shard;
    st_impl *impl = NULL;
    if (st == MW_OK) st = attach_impl(m, n_shards, &impl, err);
    for (uint32_t f = 0; f < n_shards && st == MW_OK; f++) {
        char *sp = sibling(path, shards[f]);
        if (!sp) {
            st = mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        /* files are added in shard order: m->files[f] is shards[f] */
        st = open_and_parse(m, &impl->maps[f], sp, err);
        mw_free(sp);
    }
    if (st == MW_OK) st = cross_check(m, map, n_map, path, err);
    mw_free(map);
    mw_free(shards);
    return st;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* hparams from the config.json beside the weights, when there is one. */
static mw_status read_config(mw_model *m, const char *path, mw_err *err)
{
    char *cfg = sibling(path, "config.json");
    MW_RETURN_IF(!cfg, err, MW_ERR_NOMEM, "%s: out of memory", path);
    struct stat sb;
    mw_status st = MW_OK;
    if (stat(cfg, &sb) == 0 || errno != ENOENT) {
        st = mw_hf_config_read(cfg, &m->hp, err);
        if (st == MW_OK) {
            m->has_hparams = 1;
        } else if (err && !strstr(err->msg, "config.json")) {
            char why[MW_ERR_MSG_CAP];
            memcpy(why, err->msg, sizeof why);
            mw_err_set(err, st, "%s: %s", cfg, why);
        }
    }
    mw_free(cfg);
    return st;
}

static void set_dtype_from_tensors(mw_model *m)
{
    if (m->hp.dtype != MW_DTYPE_COUNT || m->n_tensors == 0) return;
    uint64_t bytes[MW_DTYPE_COUNT] = {0};
    for (uint32_t i = 0; i < m->n_tensors; i++) bytes[m->tensors[i].dtype] += m->tensors[i].bytes;
    int best = 0;
    for (int d = 1; d < MW_DTYPE_COUNT; d++)
        if (bytes[d] > bytes[best]) best = d;
    m->hp.dtype = (mw_dtype)best;
}

mw_status mw_safetensors_open_model(const char *path, mw_model **out, mw_err *err)
{
    *out = NULL;
    mw_model *m = mw_model_alloc(MW_SOURCE_SAFETENSORS, path);
    MW_RETURN_IF(!m, err, MW_ERR_NOMEM, "%s: out of memory", path);
    mw_status st;
    if (ends_with(path, ".index.json")) {
        char *text = NULL;
        size_t len = 0;
        st = read_index(path, &text, &len, err);
        if (st == MW_OK) {
            const char *end = NULL;
            uint64_t failures = alloc_failures();
            mw_json_init();
            cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
            if (!root && parse_failed_for_memory(failures))
                st = mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory parsing it", path);
            else if (!root)
                st = mw_err_set(err, MW_ERR_INVALID, "%s: not valid JSON (error near byte %zu)",
                                path, end ? (size_t)(end - text) : (size_t)0);
            else
                st = open_index(m, path, root, err);
            cJSON_Delete(root);
            mw_free(text);
        }
    } else {
        st_impl *impl = NULL;
        st = attach_impl(m, 1, &impl, err);
        if (st == MW_OK) st = open_and_parse(m, &impl->maps[0], path, err);
    }
    if (st == MW_OK) st = read_config(m, path, err);
    if (st != MW_OK) {
        mw_model_free(m);
        return st;
    }
    set_dtype_from_tensors(m);
    mw_model_finish(m);
    *out = m;
    return MW_OK;
}
