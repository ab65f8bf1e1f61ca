/* test_roundtrip.c - safetensors -> our GGUF writer -> our GGUF reader:
 * every tensor keeps its name, type, shape (PyTorch order on both sides,
 * GGUF's reversed dims in the file) and bytes; hparams survive through the
 * metadata keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "format/gguf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A safetensors file with three tensors of three types. */
static void write_safetensors(const char *path)
{
    static const char header[] =
        "{\"embed.weight\":{\"dtype\":\"F16\",\"shape\":[4,8],\"data_offsets\":[0,64]},"
        "\"layer.q.weight\":{\"dtype\":\"BF16\",\"shape\":[8,8],\"data_offsets\":[64,192]},"
        "\"norm.weight\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[192,224]}}";
    uint64_t n = sizeof header - 1;
    unsigned char data[224];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7 + 3);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(n >> (8 * i));
    assert_int_equal(fwrite(len, 1, 8, f), 8);
    assert_int_equal(fwrite(header, 1, n, f), n);
    assert_int_equal(fwrite(data, 1, sizeof data, f), sizeof data);
    assert_int_equal(fclose(f), 0);
}

static void safetensors_to_gguf_and_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw-roundtrip-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char st_path[128], gguf_path[128];
    snprintf(st_path, sizeof st_path, "%s/m.safetensors", dir);
    snprintf(gguf_path, sizeof gguf_path, "%s/m.gguf", dir);
    write_safetensors(st_path);

    mw_err err = {0};
    mw_model *src = NULL;
    assert_int_equal(mw_model_open(st_path, &src, &err), MW_OK);
    assert_int_equal(src->n_tensors, 3);

    int fd = open(st_path, O_RDONLY);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    const unsigned char *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(map != MAP_FAILED);

    mw_gguf_writer *w = NULL;
    assert_int_equal(mw_gguf_writer_init(&w, &err), MW_OK);
    assert_int_equal(mw_gguf_writer_set_str(w, "general.architecture", "llama", &err), MW_OK);
    assert_int_equal(mw_gguf_writer_set_u32(w, "llama.block_count", 1, &err), MW_OK);
    for (uint32_t i = 0; i < src->n_tensors; i++) {
        const mw_tensor_info *t = &src->tensors[i];
        uint64_t dims[4];
        for (uint32_t d = 0; d < t->n_dims; d++) dims[d] = t->shape[t->n_dims - 1 - d];
        assert_int_equal(mw_gguf_writer_add_tensor(w, t->name, t->dtype, t->n_dims, dims,
                                                   map + t->offset, &err), MW_OK);
    }
    assert_int_equal(mw_gguf_writer_write(w, gguf_path, &err), MW_OK);
    mw_gguf_writer_free(w);

    /* The reader sees the same tensors, bytes included. */
    mw_gguf *g = NULL;
    assert_int_equal(mw_gguf_open(gguf_path, &g, &err), MW_OK);
    assert_int_equal(mw_gguf_tensor_count(g), src->n_tensors);
    char arch[32];
    assert_true(mw_gguf_get_str(g, "general.architecture", arch, sizeof arch));
    assert_string_equal(arch, "llama");
    for (uint64_t i = 0; i < mw_gguf_tensor_count(g); i++) {
        const mw_gguf_tensor *gt = mw_gguf_tensor_at(g, i);
        const mw_tensor_info *t = NULL;
        for (uint32_t k = 0; k < src->n_tensors; k++)
            if (strlen(src->tensors[k].name) == gt->name_len &&
                memcmp(src->tensors[k].name, gt->name, gt->name_len) == 0)
                t = &src->tensors[k];
        assert_non_null(t);
        assert_int_equal(gt->dtype, t->dtype);
        assert_int_equal(gt->n_dims, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) assert_int_equal(gt->dims[d], t->shape[t->n_dims - 1 - d]);
        assert_int_equal(gt->bytes, t->bytes);
        assert_memory_equal(gt->data, map + t->offset, t->bytes);
        assert_int_equal(gt->offset % mw_gguf_alignment(g), 0);
    }
    mw_gguf_close(g);

    /* and as a model, shapes are back in PyTorch order */
    mw_model *back = NULL;
    assert_int_equal(mw_model_open(gguf_path, &back, &err), MW_OK);
    assert_int_equal(back->n_params, src->n_params);
    assert_int_equal(back->weights_bytes, src->weights_bytes);
    for (uint32_t i = 0; i < back->n_tensors; i++) {
        const mw_tensor_info *b = &back->tensors[i];
        for (uint32_t k = 0; k < src->n_tensors; k++) {
            if (strcmp(src->tensors[k].name, b->name) != 0) continue;
            assert_int_equal(b->n_dims, src->tensors[k].n_dims);
            assert_memory_equal(b->shape, src->tensors[k].shape, b->n_dims * sizeof b->shape[0]);
        }
    }
    mw_model_free(back);
    munmap((void *)map, (size_t)sb.st_size);
    close(fd);
    mw_model_free(src);
    unlink(st_path);
    unlink(gguf_path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safetensors_to_gguf_and_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
