/* fuzz_gguf.c - libFuzzer target for the GGUF reader: parse an image, walk
 * every kv (arrays to the bottom) and every tensor's bytes, look each key
 * and name up again, then build the model from it. Seeds: fuzz/corpus/gguf/
 * (written by tests/unit/test_gguf.c with MW_GGUF_SEED_DIR). */
#include "format/gguf.h"

#include <string.h>

static volatile uint64_t sink;

static void walk_value(const mw_gguf_value *v)
{
    switch (v->type) {
    case MW_GGUF_STRING:
        if (v->v.str.len) sink += (unsigned char)v->v.str.ptr[v->v.str.len - 1];
        break;
    case MW_GGUF_ARRAY: {
        const uint8_t *p = v->v.arr.data;
        for (uint64_t i = 0; i < v->v.arr.count; i++) {
            mw_gguf_value e;
            p = mw_gguf_array_elem(v->v.arr.type, p, &e);
            walk_value(&e);
        }
        break;
    }
    default:
        sink += v->v.u;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mw_gguf *g;
    mw_err err;
    if (mw_gguf_open_memory(data, size, &g, &err) != MW_OK) return 0;
    char key[256];
    for (uint64_t i = 0; i < mw_gguf_kv_count(g); i++) {
        const mw_gguf_kv *kv = mw_gguf_kv_at(g, i);
        walk_value(&kv->value);
        if (kv->key_len < sizeof key && !memchr(kv->key, 0, (size_t)kv->key_len)) {
            memcpy(key, kv->key, (size_t)kv->key_len);
            key[kv->key_len] = '\0';
            if (mw_gguf_find(g, key) != kv) __builtin_trap();
            uint64_t u;
            double f;
            char s[16];
            sink += (uint64_t)mw_gguf_get_u64(g, key, &u) + (uint64_t)mw_gguf_get_f64(g, key, &f) +
                    (uint64_t)mw_gguf_get_str(g, key, s, sizeof s);
        }
    }
    for (uint64_t i = 0; i < mw_gguf_tensor_count(g); i++) {
        const mw_gguf_tensor *t = mw_gguf_tensor_at(g, i);
        const uint8_t *p = t->data;
        if ((uint64_t)(p - data) + t->bytes > size) __builtin_trap();
        sink += p[0] + p[t->bytes - 1];
        if (t->name_len <= MW_GGUF_MAX_NAME) {
            char name[MW_GGUF_MAX_NAME + 1];
            memcpy(name, t->name, (size_t)t->name_len);
            name[t->name_len] = '\0';
            if (!mw_gguf_find_tensor(g, name)) __builtin_trap();
        }
    }
    /* the model takes g (and closes it, also on error) */
    mw_model *m;
    if (mw_gguf_to_model(g, "fuzz.gguf", &m, &err) == MW_OK) {
        sink += m->n_params + m->hp.n_layers;
        mw_model_free(m);
    }
    return 0;
}
