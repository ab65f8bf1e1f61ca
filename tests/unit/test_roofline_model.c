/* test_roofline_model.c - placing a model on the roofline (src/report/
 * roofline_model.c): a small known model and known ceilings give the
 * intensities, attainable rates, bounds and ridge the formulas of
 * docs/PLAN.md and docs/ROOFLINE.md say; the prefill from two plans; the
 * measured fields from a run; unknown ceilings, the batch list's bounds,
 * the demo model, and the writers (JSON parses, SVG labels every point). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "format/model.h"
#include "common/test_hooks.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* L 2, h 64, a = a_kv 4, d 16, gated f 128, v 100, tied: 2 FLOPs a weight
 * per token = 2 x 88320, attention 4.L.a.d = 512 FLOPs per position; KV
 * (F16) 2.L.a_kv.d.2 = 512 bytes a token. */
#define WEIGHTS 1000000.0
#define W_FLOPS (2.0 * 88320)
#define ATT 512.0
#define KV 512.0

static mw_model *tiny(void)
{
    mw_hparams hp;
    memset(&hp, 0, sizeof hp);
    strcpy(hp.arch, "llama");
    hp.n_layers = 2;
    hp.n_embd = 64;
    hp.n_heads = 4;
    hp.n_kv_heads = 4;
    hp.head_dim = 16;
    hp.n_ff = 128;
    hp.n_vocab = 100;
    hp.n_ctx_train = 256;
    hp.tied_embeddings = 1;
    hp.gated_ffn = 1;
    hp.dtype = MW_DTYPE_F32;
    mw_model *m = mw_model_from_hparams(MW_SOURCE_PRESET, "tiny", &hp, 250000, (uint64_t)WEIGHTS);
    assert_non_null(m);
    return m;
}

static mw_ceilings ceilings(double dram, double peak)
{
    mw_ceilings c;
    memset(&c, 0, sizeof c);
    c.dram_read_bytes_per_second = dram;
    c.peak_flops_f32 = peak;
    c.peak_flops_bf16 = c.peak_ops_int8 = -1;
    c.threads = 2;
    return c;
}

static void close_to(double got, double want)
{
    if (fabs(got - want) > 1e-9 * fabs(want)) fail_msg("got %.17g, want %.17g", got, want);
}

/* ridge 5 FLOP/byte; batches 1, 64 below it, 256 above */
static void decode_points_against_known_ceilings(void **state)
{
    (void)state;
    mw_model *m = tiny();
    mw_ceilings c = ceilings(10e9, 50e9);
    const uint32_t b[] = {1, 64, 256};
    mw_place_opts o;
    mw_place_opts_init(&o);
    o.batches = b;
    o.n_batches = 3;
    o.ctx = 64;
    o.prompt = 32;
    mw_placement *p = NULL;
    mw_err err;
    assert_int_equal(mw_place_model(m, &o, &c, NULL, &p, &err), MW_OK);
    assert_int_equal(p->n_points, 4);
    close_to(p->ridge, 5);
    for (int i = 0; i < 3; i++) {
        const mw_place_point *pt = &p->points[i];
        double flops = b[i] * (W_FLOPS + ATT * 64), bytes = WEIGHTS + b[i] * 64 * KV, in = flops / bytes;
        assert_int_equal(pt->batch, b[i]);
        assert_int_equal(pt->ctx, 64);
        assert_false(pt->prefill);
        close_to(pt->flops, flops);
        close_to(pt->bytes, bytes);
        close_to(pt->intensity, in);
        close_to(pt->attainable_flops_per_second, fmin(50e9, in * 10e9));
        assert_int_equal(pt->bound, in < 5 ? MW_PLACE_BOUND_BANDWIDTH : MW_PLACE_BOUND_COMPUTE);
        assert_string_equal(pt->fits_in, "");       /* no levels given */
        assert_false(pt->measured);
    }
    assert_int_equal(p->points[0].bound, MW_PLACE_BOUND_BANDWIDTH);
    assert_int_equal(p->points[2].bound, MW_PLACE_BOUND_COMPUTE);
    assert_true(p->points[0].intensity < p->points[1].intensity);
    assert_string_equal(p->points[1].label, "b64");
    /* the prefill: 32 tokens multiply the weights, one computes logits
     * (2.v.h), token i attends i positions; weights once, KV written once */
    const mw_place_point *pf = &p->points[3];
    assert_true(pf->prefill);
    assert_string_equal(pf->label, "prefill");
    assert_int_equal(pf->batch, 1);
    assert_int_equal(pf->tokens, 32);
    double logits = 2.0 * 100 * 64;
    close_to(pf->flops, 32 * (W_FLOPS - logits) + logits + ATT * 32 * 33 / 2);
    close_to(pf->bytes, WEIGHTS + 32 * KV);
    assert_int_equal(pf->bound, MW_PLACE_BOUND_COMPUTE);
    mw_placement_free(p);
    mw_model_free(m);
}

/* an intensity exactly at the ridge is compute bound; the default context
 * is the model's trained one (256 here) */
static void at_the_ridge_and_defaults(void **state)
{
    (void)state;
    mw_model *m = tiny();
    const uint32_t b[] = {1};
    mw_place_opts o;
    mw_place_opts_init(&o);
    o.batches = b;
    o.n_batches = 1;
    mw_placement *p = NULL;
    mw_ceilings c0 = ceilings(1e9, 1e9);
    assert_int_equal(mw_place_model(m, &o, &c0, NULL, &p, NULL), MW_OK);
    double in = p->points[0].intensity;
    assert_int_equal(p->points[0].ctx, 256);
    assert_int_equal(p->points[1].tokens, 512);   /* the default prompt */
    mw_placement_free(p);
    mw_ceilings c = ceilings(1e9, in * 1e9);    /* ridge = the intensity */
    assert_int_equal(mw_place_model(m, &o, &c, NULL, &p, NULL), MW_OK);
    assert_int_equal(p->points[0].bound, MW_PLACE_BOUND_COMPUTE);
    close_to(p->points[0].attainable_flops_per_second, in * 1e9);
    mw_placement_free(p);
    /* the default batches: 1 .. 64 by doubling */
    assert_int_equal(mw_place_model(m, NULL, &c, NULL, &p, NULL), MW_OK);
    assert_int_equal(p->n_points, 8);
    assert_int_equal(p->points[6].batch, 64);
    mw_placement_free(p);
    mw_model_free(m);
}

/* a zero or unknown ceiling: no ridge, no attainable, no bound - not 0 */
static void unknown_ceilings(void **state)
{
    (void)state;
    mw_model *m = tiny();
    const double cases[][2] = {{0, 50e9}, {10e9, 0}, {-1, -1}, {10e9, NAN}};
    for (size_t k = 0; k < 4; k++) {
        mw_ceilings c = ceilings(cases[k][0], cases[k][1]);
        mw_placement *p = NULL;
        assert_int_equal(mw_place_model(m, NULL, &c, NULL, &p, NULL), MW_OK);
        assert_true(p->ridge < 0);
        for (size_t i = 0; i < p->n_points; i++) {
            assert_true(p->points[i].intensity > 0);
            assert_true(p->points[i].attainable_flops_per_second < 0);
            assert_int_equal(p->points[i].bound, MW_PLACE_BOUND_UNKNOWN);
        }
        mw_placement_free(p);
    }
    mw_placement *p = NULL;
    assert_int_equal(mw_place_model(m, NULL, NULL, NULL, &p, NULL), MW_OK);   /* no ceilings at all */
    assert_int_equal(p->points[0].bound, MW_PLACE_BOUND_UNKNOWN);
    assert_string_equal(mw_place_bound_name(p->points[0].bound), "unknown");
    /* the writers say so, and still draw every point */
    char buf[65536] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(f);
    assert_int_equal(mw_placement_svg(p, f, NULL), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "a ceiling is unknown"));
    assert_non_null(strstr(buf, ">prefill</text>"));
    assert_null(strstr(buf, "nan"));
    assert_null(strstr(buf, "inf"));
    f = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(mw_placement_report_text(p, f, 0, NULL), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "no bound"));
    mw_placement_free(p);
    mw_model_free(m);
}

static void bad_options(void **state)
{
    (void)state;
    mw_model *m = tiny();
    mw_ceilings c = ceilings(10e9, 50e9);
    static uint32_t many[MW_PLACE_MAX_BATCHES + 1];
    for (size_t i = 0; i <= MW_PLACE_MAX_BATCHES; i++) many[i] = (uint32_t)i + 1;
    mw_place_opts o;
    mw_place_opts_init(&o);
    mw_placement *p = (mw_placement *)&o;
    mw_err err;
    o.batches = many;
    o.n_batches = MW_PLACE_MAX_BATCHES + 1;
    assert_int_equal(mw_place_model(m, &o, &c, NULL, &p, &err), MW_ERR_INVALID);
    assert_null(p);
    assert_non_null(strstr(err.msg, "256"));
    o.n_batches = 0;
    assert_int_equal(mw_place_model(m, &o, &c, NULL, &p, &err), MW_ERR_INVALID);
    o.n_batches = MW_PLACE_MAX_BATCHES;       /* the most: fine */
    assert_int_equal(mw_place_model(m, &o, &c, NULL, &p, &err), MW_OK);
    assert_int_equal(p->n_points, MW_PLACE_MAX_BATCHES + 1);
    mw_placement_free(p);
    const uint32_t zero[] = {4, 0};
    o.batches = zero;
    o.n_batches = 2;
    assert_int_equal(mw_place_model(m, &o, &c, NULL, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "batch 2"));
    mw_place_opts_init(&o);
    o.prompt = 0;
    assert_int_equal(mw_place_model(m, &o, &c, NULL, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--prompt"));
    mw_model_free(m);
    /* a model without hyperparameters: the plan's message */
    mw_model *bare = mw_model_from_hparams(MW_SOURCE_PRESET, "bare", NULL, 0, 0);
    assert_non_null(bare);
    assert_int_equal(mw_place_model(bare, NULL, &c, NULL, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "hyperparameters"));
    mw_model_free(bare);
}

/* measured: the run's own plan over its step time, against the attainable
 * at its own intensity; the cache level a step fits in */
static void measured_and_levels(void **state)
{
    (void)state;
    mw_model *m = tiny();
    mw_ceilings c = ceilings(10e9, 50e9);
    mw_roofline_result r;
    memset(&r, 0, sizeof r);
    r.n_levels = 2;
    strcpy(r.levels[0].name, "L2");
    r.levels[0].bytes = 2000000;
    r.levels[0].bw[MW_RL_READ][1].max = 40e9;
    strcpy(r.levels[1].name, "DRAM");
    r.levels[1].bytes = 64000000;
    r.levels[1].bw[MW_RL_READ][1].max = 10e9;
    const uint32_t b[] = {1, 256};
    mw_place_opts o;
    mw_place_opts_init(&o);
    o.batches = b;
    o.n_batches = 2;
    o.ctx = 64;
    mw_placement *p = NULL;
    assert_int_equal(mw_place_model(m, &o, &c, &r, &p, NULL), MW_OK);
    assert_int_equal(p->n_levels, 2);
    assert_string_equal(p->points[0].fits_in, "L2");   /* 1.03 MB */
    assert_string_equal(p->points[1].fits_in, "");     /* 9.4 MB: DRAM only */
    close_to(p->points[0].attainable_flops_per_second, p->points[0].intensity * 10e9); /* DRAM still */

    mw_run_result run;
    memset(&run, 0, sizeof run);
    run.batch = 1;
    run.prompt_tokens = 16;
    run.gen_per_seq = 16;
    run.decode_step_seconds = 1e-4;
    run.prompt_seconds = 2e-3;
    run.predicted.decode_step_flops = 2e5;
    run.predicted.decode_step_bytes = 1e6;
    mw_place_point *pt = &p->points[0];
    assert_true(mw_place_measured(pt, &run, &c));
    assert_true(pt->measured);
    close_to(pt->measured_flops_per_second, 2e9);
    close_to(pt->measured_bytes_per_second, 1e10);
    close_to(pt->measured_intensity, 0.2);
    close_to(pt->measured_attainable_flops_per_second, 0.2 * 10e9);
    close_to(pt->fraction, 1.0);
    assert_int_equal(pt->measured_prompt, 16);
    assert_int_equal(pt->measured_gen, 16);
    /* the prefill: its own FLOPs over the prompt's time */
    mw_place_point *pf = &p->points[2];
    assert_true(mw_place_measured(pf, &run, &c));
    close_to(pf->measured_flops_per_second, pf->flops / 2e-3);
    close_to(pf->fraction, pf->flops / 2e-3 / pf->attainable_flops_per_second);
    /* a run that timed nothing, and unknown ceilings */
    run.decode_step_seconds = -1;
    assert_false(mw_place_measured(&p->points[1], &run, &c));
    assert_false(p->points[1].measured);
    run.decode_step_seconds = 1e-4;
    mw_ceilings none = ceilings(-1, -1);
    assert_true(mw_place_measured(&p->points[1], &run, &none));
    assert_true(p->points[1].fraction < 0);
    mw_placement_free(p);
    mw_model_free(m);
}

static char *slurp(FILE *f)
{
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void writers_and_demo(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err;
    assert_int_equal(mw_model_or_demo_open("demo", &m, &err), MW_OK);
    assert_int_equal(m->hp.n_layers, 12);
    assert_true(m->weights_bytes > 100u << 20);
    assert_int_equal(mw_model_or_demo_open("/nonexistent/x.gguf", &(mw_model *){NULL}, &err), MW_ERR_NOT_FOUND);
    mw_ceilings c = ceilings(10e9, 100e9);
    c.peak_flops_bf16 = 400e9;
    mw_placement *p = NULL;
    assert_int_equal(mw_place_model(m, NULL, &c, NULL, &p, &err), MW_OK);
    strcpy(p->model, "a<b>&\"c'");   /* escaped in the chart */

    FILE *f = tmpfile();
    assert_int_equal(mw_placement_report_json(p, f, &err), MW_OK);
    char *s = slurp(f);
    fclose(f);
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "schema")->valuestring, "memwall.roofline-model/1");
    cJSON *pts = cJSON_GetObjectItem(j, "points");
    assert_int_equal(cJSON_GetArraySize(pts), 8);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "measured")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ceilings"), "peak_ops_int8")));
    cJSON_Delete(j);
    free(s);

    f = tmpfile();
    assert_int_equal(mw_placement_svg(p, f, &err), MW_OK);
    s = slurp(f);
    fclose(f);
    assert_non_null(strstr(s, "a&lt;b&gt;&amp;&quot;c&apos;"));
    assert_null(strstr(s, "a<b>"));
    for (size_t i = 0; i < p->n_points; i++) {
        char want[40];
        snprintf(want, sizeof want, ">%s</text>", p->points[i].label);
        assert_non_null(strstr(s, want));
    }
    assert_non_null(strstr(s, "BF16 peak"));
    assert_null(strstr(s, "INT8 peak"));
    free(s);

    f = tmpfile();
    assert_int_equal(mw_placement_report_text(p, f, 0, &err), MW_OK);
    s = slurp(f);
    fclose(f);
    assert_non_null(strstr(s, "batch 4: "));
    assert_non_null(strstr(s, "memory bandwidth binds"));
    free(s);
    /* a full device: the write's failure is reported */
    f = fopen("/dev/full", "w");
    if (f) {
        assert_int_equal(mw_placement_svg(p, f, &err), MW_ERR_IO);
        fclose(f);
    }
    mw_placement_free(p);
    mw_model_free(m);
}

static void allocation_failures(void **state)
{
    (void)state;
    mw_model *m = tiny();
    mw_ceilings c = ceilings(10e9, 50e9);
    for (int n = 1; n <= 2; n++) {
        mw_placement *p = NULL;
        mw_err err;
        mw_mem_fail_after(n);
        mw_status st = mw_place_model(m, NULL, &c, NULL, &p, &err);
        mw_mem_fail_after(0);
        assert_int_equal(st, MW_ERR_NOMEM);
        assert_null(p);
    }
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_points_against_known_ceilings),
        cmocka_unit_test(at_the_ridge_and_defaults),
        cmocka_unit_test(unknown_ceilings),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(measured_and_levels),
        cmocka_unit_test(writers_and_demo),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
