/* test_sweep_svg.c - the sweep's SVG chart (src/report/sweep_svg.c) on
 * results built by hand: well-formed XML (a small checker below, so the
 * tests need no XML library), the axes, one marker per point, the cap, the
 * knee and the cliff, the verdict, escaping, and the empty sweep.
 *
 * MW_SVG_OUT=DIR also writes each chart to DIR/sweep*.svg, to look at them
 * rendered (e.g. chromium --headless --screenshot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1024ull * 1024ull)

/* ---- a minimal XML well-formedness checker ------------------------------
 * Elements balanced and properly nested, one root <svg>, attributes quoted
 * and unique-ish in form, no '<' in values, every '&' a known entity or a
 * character reference, comments closed, nothing but space after the root. */

static int is_name_start(int c) { return isalpha(c) || c == '_' || c == ':'; }
static int is_name_char(int c) { return isalnum(c) || c == '_' || c == ':' || c == '-' || c == '.'; }

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    return s;
}

/* At '&': the end of a valid reference, or NULL. */
static const char *entity(const char *s)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (!strncmp(s, named[i], strlen(named[i]))) return s + strlen(named[i]);
    if (s[1] != '#') return NULL;
    const char *p = s + 2;
    int hex = *p == 'x';
    if (hex) p++;
    const char *digits = p;
    while (hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p)) p++;
    return p > digits && *p == ';' ? p + 1 : NULL;
}

static const char *xml_check(const char *s)
{
    static char why[256];
    char stack[64][64];
    int depth = 0, roots = 0;
    if (!strncmp(s, "<?xml", 5)) {
        s = strstr(s, "?>");
        if (!s) return "unterminated XML declaration";
        s += 2;
    }
    while (*s) {
        if (*s != '<') {
            if (depth == 0 && !isspace((unsigned char)*s)) return "text outside the root element";
            if (*s == '&') {
                const char *e = entity(s);
                if (!e) { snprintf(why, sizeof why, "bad reference near '%.20s'", s); return why; }
                s = e;
            } else s++;
            continue;
        }
        if (!strncmp(s, "<!--", 4)) {
            const char *e = strstr(s + 4, "--");
            if (!e || e[2] != '>') return "bad comment";
            s = e + 3;
            continue;
        }
        if (s[1] == '/') {
            const char *n = s + 2, *p = n;
            while (is_name_char((unsigned char)*p)) p++;
            if (depth == 0) return "closing tag without an open one";
            depth--;
            if ((size_t)(p - n) != strlen(stack[depth]) || strncmp(n, stack[depth], (size_t)(p - n))) {
                snprintf(why, sizeof why, "</%.*s> closes <%.63s>", (int)(p - n < 63 ? p - n : 63), n, stack[depth]);
                return why;
            }
            p = skip_space(p);
            if (*p != '>') return "junk in a closing tag";
            s = p + 1;
            continue;
        }
        const char *n = s + 1, *p = n;
        if (!is_name_start((unsigned char)*p)) { snprintf(why, sizeof why, "bad tag near '%.20s'", s); return why; }
        while (is_name_char((unsigned char)*p)) p++;
        if (p - n >= 64 || depth >= 64) return "tag too long or too deep";
        if (depth == 0 && ++roots > 1) return "more than one root element";
        if (depth == 0 && (p - n != 3 || strncmp(n, "svg", 3))) return "the root is not <svg>";
        char name[64];
        memcpy(name, n, (size_t)(p - n));
        name[p - n] = 0;
        for (;;) {
            const char *q = skip_space(p);
            if (q[0] == '/' && q[1] == '>') { s = q + 2; break; }
            if (q[0] == '>') {
                strcpy(stack[depth++], name);
                s = q + 1;
                break;
            }
            if (q == p) { snprintf(why, sizeof why, "<%s>: attributes run together", name); return why; }
            if (!is_name_start((unsigned char)*q)) { snprintf(why, sizeof why, "<%s>: bad attribute", name); return why; }
            while (is_name_char((unsigned char)*q)) q++;
            q = skip_space(q);
            if (*q != '=') { snprintf(why, sizeof why, "<%s>: attribute without a value", name); return why; }
            q = skip_space(q + 1);
            char quote = *q;
            if (quote != '"' && quote != '\'') { snprintf(why, sizeof why, "<%s>: unquoted value", name); return why; }
            q++;
            while (*q && *q != quote) {
                if (*q == '<') return "'<' in an attribute value";
                if (*q == '&') {
                    const char *e = entity(q);
                    if (!e) return "bad reference in an attribute value";
                    q = e;
                } else q++;
            }
            if (!*q) return "unterminated attribute value";
            p = q + 1;
        }
    }
    if (depth) { snprintf(why, sizeof why, "<%s> never closed", stack[depth - 1]); return why; }
    if (roots != 1) return "no root element";
    return NULL;
}

static void checker_catches_bad_xml(void **state)
{
    (void)state;
    assert_null(xml_check("<?xml version=\"1.0\"?>\n<svg a=\"1\"><g><text>x &amp; y</text></g><!-- c --></svg>\n"));
    assert_non_null(xml_check("<svg><g></svg>"));
    assert_non_null(xml_check("<svg><g></text></g></svg>"));
    assert_non_null(xml_check("<svg><text>a & b</text></svg>"));
    assert_non_null(xml_check("<svg><text>a < b</text></svg>"));
    assert_non_null(xml_check("<svg a=1/>"));
    assert_non_null(xml_check("<svg a=\"1\"b=\"2\"/>"));
    assert_non_null(xml_check("<svg/><svg/>"));
    assert_non_null(xml_check("<svg/>junk"));
}

/* ---- rendering helpers --------------------------------------------------- */

static char *render(const mw_sweep_result *r, const char *save_as)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mw_err err = {0};
    mw_status st = mw_sweep_report_svg(r, f, &err);
    if (st != MW_OK) print_error("mw_sweep_report_svg: %s (%s)\n", mw_status_name(st), err.msg);
    assert_int_equal(st, MW_OK);
    assert_int_equal(fclose(f), 0);
    const char *why = xml_check(buf);
    if (why) print_error("ill-formed SVG: %s\n%s\n", why, buf);
    assert_null(why);
    const char *dir = getenv("MW_SVG_OUT");
    if (dir && save_as) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, save_as);
        FILE *o = fopen(path, "w");
        if (o) { fputs(buf, o); fclose(o); }
    }
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void assert_has(const char *svg, const char *needle)
{
    if (!strstr(svg, needle)) print_error("missing '%s'\n", needle);
    assert_non_null(strstr(svg, needle));
}

/* The coordinate pairs of <polyline id="ID" ... points="...">. */
static size_t polyline_pairs(const char *svg, const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "<polyline id=\"%s\"", id);
    const char *p = strstr(svg, key);
    if (!p) return 0;
    p = strstr(p, "points=\"");
    assert_non_null(p);
    p += 8;
    size_t n = 0;
    for (; *p && *p != '"'; p++) n += *p == ',';
    return n;
}

static mw_sweep_point point(uint32_t batch, mw_point_status st, uint64_t mem, double thr)
{
    mw_sweep_point p;
    memset(&p, 0, sizeof p);
    p.batch = batch;
    p.status = st;
    p.runs = 1;
    p.wall_seconds = 1;
    p.throughput = thr;
    p.peak_rss_bytes = mem == MW_UNKNOWN ? MW_UNKNOWN : mem - mem / 50;
    p.cgroup_peak_bytes = mem;
    p.swap_peak_bytes = MW_UNKNOWN;
    p.swap_in_bytes = 0;
    p.refaults = MW_UNKNOWN;
    p.psi_some_seconds = p.psi_full_seconds = -1;
    p.predicted_bytes = MW_UNKNOWN;
    return p;
}

static void set_workload(mw_sweep_result *r, const char *w, mw_verdict v, const char *reason)
{
    snprintf(r->workload, sizeof r->workload, "%s", w);
    r->analysis.overall = v;
    snprintf(r->analysis.reason, sizeof r->analysis.reason, "%s", reason);
}

/* ---- the charts ---------------------------------------------------------- */

static void chart_with_knee_and_wall(void **state)
{
    (void)state;
    mw_sweep_point pts[] = {
        point(1, MW_POINT_OK, 96 * MiB, 120), point(2, MW_POINT_OK, 130 * MiB, 231),
        point(4, MW_POINT_OK, 190 * MiB, 420), point(8, MW_POINT_OK, 300 * MiB, 610),
        point(16, MW_POINT_OK, 470 * MiB, 640), point(32, MW_POINT_OOM, MW_UNKNOWN, -1),
    };
    mw_verdict v[] = {MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH,
                      MW_VERDICT_COMPUTE, MW_VERDICT_COMPUTE, MW_VERDICT_CAPACITY};
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 6;
    r.points = pts;
    r.verdicts = v;
    r.mem_limit_bytes = 512 * MiB;
    r.analysis.max_fit = 16;
    r.analysis.first_fail = 32;
    r.analysis.knee = 8;
    set_workload(&r, "memwall run demo --prompt 64 --gen 16 --batch {batch}", MW_VERDICT_CAPACITY,
                 "batch 32 ran out of memory under the 512 MiB cap; batch 16 fits (470 MiB); "
                 "past batch 8 doubling adds < 10% throughput");
    char *svg = render(&r, "sweep.svg");

    assert_has(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
    assert_null(strstr(svg, "<script"));
    assert_null(strstr(svg, "@font-face"));
    assert_null(strstr(svg, "href"));
    assert_has(svg, "batch (log2 scale)");
    assert_has(svg, ">peak memory<");
    assert_has(svg, "throughput (items/s)");
    /* one marker per point: five finished, one out of memory */
    assert_int_equal(count(svg, "class=\"mem-pt\""), 5);
    assert_int_equal(count(svg, "class=\"fail-pt\""), 1);
    assert_int_equal(count(svg, "class=\"thr-pt\""), 5);
    for (size_t i = 0; i < r.n_points; i++) {
        char t[32];
        snprintf(t, sizeof t, "<title>batch %u:", pts[i].batch);
        assert_int_equal(count(svg, t), 1);
    }
    assert_int_equal(polyline_pairs(svg, "mem-line"), 5);
    assert_int_equal(polyline_pairs(svg, "thr-line"), 5);
    assert_has(svg, ">oom<");
    assert_has(svg, "<g id=\"cap\">");
    assert_has(svg, "cap 512 MiB");
    assert_has(svg, "<line id=\"knee\"");
    assert_has(svg, "knee: batch 8");
    assert_null(strstr(svg, "id=\"cliff\""));
    assert_null(strstr(svg, "cliff: batch"));
    assert_has(svg, "verdict: memory capacity \xE2\x80\x94 batch 32 ran out of memory");
    /* ticks at the measured batches */
    for (size_t i = 0; i < r.n_points; i++) {
        char t[48];
        snprintf(t, sizeof t, "fill=\"#333\">%u</text>", pts[i].batch);
        assert_has(svg, t);
    }
    /* the legend names the failed marker only when there is one */
    assert_has(svg, "did not finish");
    free(svg);
}

static void chart_with_cliff(void **state)
{
    (void)state;
    mw_sweep_point pts[] = {
        point(64, MW_POINT_OK, 900 * MiB, 300), point(1, MW_POINT_OK, 110 * MiB, 100),
        point(2, MW_POINT_OK, 140 * MiB, -1),   point(4, MW_POINT_OK, 200 * MiB, 380),
        point(8, MW_POINT_OK, 320 * MiB, 610),  point(16, MW_POINT_OK, 560 * MiB, 650),
        point(32, MW_POINT_OK, 870 * MiB, 655),
    };
    /* the tree's peak where the cgroup's is unknown */
    pts[1].cgroup_peak_bytes = MW_UNKNOWN;
    pts[1].peak_rss_bytes = 100 * MiB;
    for (size_t i = 0; i < 7; i++) pts[i].predicted_bytes = pts[i].batch * 28 * MiB + 80 * MiB;
    pts[0].swap_in_bytes = 400 * MiB;
    mw_verdict v[] = {MW_VERDICT_PAGING,  MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH,
                      MW_VERDICT_COMPUTE, MW_VERDICT_COMPUTE,   MW_VERDICT_COMPUTE};
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 7;
    r.points = pts;
    r.verdicts = v;
    r.mem_limit_bytes = 1024 * MiB;
    r.analysis.max_fit = 64;
    r.analysis.knee = 16;
    r.analysis.cliff = 64;
    set_workload(&r, "python3 train.py --batch-size {batch}", MW_VERDICT_PAGING,
                 "batch 64 swapped in 400 MiB (threshold 16 MiB) and its throughput fell 54% below the best "
                 "(655 items/s at batch 32); below it, past the knee at batch 16, doubling the batch adds "
                 "< 10% throughput: compute-bound");
    char *svg = render(&r, "sweep_cliff.svg");

    assert_int_equal(count(svg, "class=\"mem-pt\""), 7);
    assert_int_equal(count(svg, "class=\"fail-pt\""), 0);
    assert_null(strstr(svg, "did not finish"));
    /* batch 2's throughput is unknown: no marker, not on the line */
    assert_int_equal(count(svg, "class=\"thr-pt\""), 6);
    assert_int_equal(polyline_pairs(svg, "thr-line"), 6);
    assert_int_equal(polyline_pairs(svg, "mem-line"), 7);
    assert_has(svg, "<title>batch 2: ok, peak 140 MiB, throughput unknown, memory bandwidth</title>");
    assert_has(svg, "<title>batch 1: ok, peak 100 MiB, 100.0 items/s");
    /* the plan's prediction, one marker per point */
    assert_int_equal(count(svg, "class=\"plan-pt\""), 7);
    assert_int_equal(polyline_pairs(svg, "plan-line"), 7);
    assert_has(svg, "cap 1.00 GiB");
    assert_has(svg, "knee: batch 16");
    assert_has(svg, "<line id=\"cliff\"");
    assert_has(svg, "cliff: batch 64");
    assert_has(svg, "verdict: paging");
    free(svg);
}

/* Bisection leaves close batches (40, 44, 48) and knee and cliff side by
 * side: labels must thin out and lean apart, and the chart stay valid. */
static void chart_with_dense_points(void **state)
{
    (void)state;
    const uint32_t b[] = {1, 2, 4, 8, 16, 32, 64, 48, 40, 44, 42};
    mw_sweep_point pts[11];
    for (size_t i = 0; i < 11; i++) {
        int fits = b[i] <= 42;
        pts[i] = point(b[i], fits ? MW_POINT_OK : b[i] == 48 ? MW_POINT_TIMEOUT : MW_POINT_OOM,
                       fits ? (60 + 40ull * b[i]) * MiB : MW_UNKNOWN, fits ? 1000.0 * b[i] / (1 + b[i] / 6.0) : -1);
    }
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 11;
    r.points = pts;
    r.verdicts = NULL;
    r.mem_limit_bytes = 1800 * MiB;
    r.analysis.knee = 16;
    r.analysis.cliff = 32;
    set_workload(&r,
                 "WANDB_MODE=offline torchrun --nproc-per-node 1 examples/train_gpt.py --config configs/small.yaml "
                 "--micro-batch-size {batch} --seq-len 2048 --log-every 10",
                 MW_VERDICT_CAPACITY, "batch 44 ran out of memory");
    char *svg = render(&r, "sweep_dense.svg");
    assert_int_equal(count(svg, "class=\"mem-pt\""), 8);
    assert_int_equal(count(svg, "class=\"fail-pt\""), 3);
    /* the labels under close crosses thin out; the tooltips keep every status */
    assert_has(svg, ">oom<");
    assert_has(svg, "<title>batch 48: timeout,");
    /* a long command is cut to the title's width */
    assert_has(svg, "WANDB_MODE=offline torchrun");
    assert_null(strstr(svg, "--log-every 10</text>"));
    assert_has(svg, "\xE2\x80\xA6</text>");
    assert_has(svg, "knee: batch 16");
    assert_has(svg, "cliff: batch 32");
    assert_has(svg, "no verdict</title>");
    free(svg);
}

/* A cap far above every peak is named, not drawn to scale. */
static void chart_with_far_cap(void **state)
{
    (void)state;
    mw_sweep_point pts[] = {point(1, MW_POINT_OK, 50 * MiB, 10.5), point(2, MW_POINT_OK, 60 * MiB, 20.25)};
    mw_verdict v[] = {MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH};
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 2;
    r.points = pts;
    r.verdicts = v;
    r.mem_limit_bytes = 64ull * 1024 * MiB;
    set_workload(&r, "demo", MW_VERDICT_BANDWIDTH, "");
    char *svg = render(&r, "sweep_farcap.svg");
    assert_has(svg, "cap 64.0 GiB (above the chart)");
    assert_null(strstr(svg, "<g id=\"cap\">"));
    assert_has(svg, "verdict: memory bandwidth</text>");
    free(svg);

    r.mem_limit_bytes = MW_UNLIMITED;
    svg = render(&r, NULL);
    assert_null(strstr(svg, "id=\"cap\""));
    free(svg);
}

static void chart_with_gpu_and_contexts(void **state)
{
    (void)state;
    /* a GPU workload: host memory flat, GPU memory growing, a CUDA OOM */
    mw_sweep_point pts[] = {point(1, MW_POINT_OK, 900 * 1024, 100), point(2, MW_POINT_OK, 910 * 1024, 200),
                            point(4, MW_POINT_OK, 905 * 1024, 400), point(8, MW_POINT_OOM, 910 * 1024, -1)};
    for (int i = 0; i < 4; i++) pts[i].peak_gpu_bytes = (1024 + 512 * (uint64_t)pts[i].batch) * MiB;
    pts[3].oom = MW_OOM_GPU;
    mw_verdict v[] = {MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH, MW_VERDICT_CAPACITY};
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 4;
    r.points = pts;
    r.verdicts = v;
    r.mem_limit_bytes = 512 * MiB;
    set_workload(&r, "train.py", MW_VERDICT_CAPACITY, "out of GPU memory at batch 8");
    char *svg = render(&r, "sweep_gpu.svg");
    assert_int_equal(polyline_pairs(svg, "gpu-line"), 3); /* the ok points only */
    assert_int_equal(count(svg, "class=\"gpu-pt\""), 3 + 1); /* and the legend's */
    assert_has(svg, "GPU memory (left)");
    assert_has(svg, "host memory (left)");
    assert_has(svg, "batch 8: oom");
    free(svg);

    /* no GPU figures: no GPU series */
    for (int i = 0; i < 4; i++) pts[i].peak_gpu_bytes = MW_UNKNOWN;
    svg = render(&r, NULL);
    assert_null(strstr(svg, "gpu-line"));
    assert_null(strstr(svg, "GPU memory (left)"));
    assert_has(svg, "peak memory (left)");
    free(svg);

    /* a context sweep: x is the context, and the marks say ctx */
    for (int i = 0; i < 4; i++) pts[i].ctx = 1024u << i;
    r.analysis.axis = MW_SWEEP_CTX;
    r.analysis.cliff = 4096;
    svg = render(&r, "sweep_ctx.svg");
    assert_has(svg, "context, tokens per sequence (log2 scale)");
    assert_has(svg, "cliff: ctx 4096");
    assert_has(svg, "<title>ctx 8192: oom");
    assert_has(svg, ">2048</text>");
    free(svg);
}

/* Points judged "below both ceilings" (docs/SWEEP.md, "Verdicts against
 * the ceilings"): hollow throughput markers and a legend entry. */
static void chart_below_ceilings(void **state)
{
    (void)state;
    mw_sweep_point pts[] = {point(1, MW_POINT_OK, 96 * MiB, 120), point(2, MW_POINT_OK, 130 * MiB, 231),
                            point(4, MW_POINT_OK, 190 * MiB, 240), point(8, MW_POINT_OOM, MW_UNKNOWN, -1)};
    mw_verdict v[] = {MW_VERDICT_BANDWIDTH, MW_VERDICT_BELOW_CEILINGS, MW_VERDICT_BELOW_CEILINGS,
                      MW_VERDICT_CAPACITY};
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 4;
    r.points = pts;
    r.verdicts = v;
    r.mem_limit_bytes = 512 * MiB;
    set_workload(&r, "memwall run demo --batch {batch}", MW_VERDICT_CAPACITY, "out of memory at batch 8");
    char *svg = render(&r, "sweep_below.svg");
    assert_int_equal(count(svg, "class=\"thr-pt\""), 3);
    assert_int_equal(count(svg, "<g class=\"below-ceilings\">"), 2);
    assert_has(svg, "<g class=\"below-ceilings\"><title>batch 2:");
    assert_has(svg, "below both ceilings</title>");
    assert_int_equal(count(svg, "class=\"below-key\""), 1);
    assert_has(svg, ">below both ceilings</text>");
    free(svg);

    /* all six legend entries: still one row inside the chart */
    for (int i = 0; i < 4; i++) {
        pts[i].peak_gpu_bytes = (64 + 16 * (uint64_t)pts[i].batch) * MiB;
        pts[i].predicted_bytes = (90 + 25 * (uint64_t)pts[i].batch) * MiB;
    }
    svg = render(&r, "sweep_below_all.svg");
    assert_has(svg, ">GPU memory</text>");
    assert_has(svg, ">plan's prediction</text>");
    assert_has(svg, ">did not finish</text>");
    const char *end = strstr(svg, ">below both ceilings</text>");
    assert_non_null(end);
    const char *x = end;
    while (x > svg && strncmp(x, "<text x=\"", 9) != 0) x--;
    double left = atof(x + 9);
    assert_true(left > 0);
    /* 6.6 px a character: the legend's own estimate of 12 px text */
    assert_true(left + strlen("below both ceilings") * 6.6 < 800);
    free(svg);

    /* none below both: no entry */
    v[1] = v[2] = MW_VERDICT_BANDWIDTH;
    svg = render(&r, NULL);
    assert_null(strstr(svg, "below both ceilings"));
    assert_null(strstr(svg, "below-ceilings"));
    assert_has(svg, ">GPU memory (left)</text>");
    free(svg);
}

static void chart_escapes_text(void **state)
{
    (void)state;
    mw_sweep_point pts[] = {point(4, MW_POINT_OK, 64 * MiB, 5), point(8, MW_POINT_FAILED, MW_UNKNOWN, -1)};
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 2;
    r.points = pts;
    r.mem_limit_bytes = MW_UNLIMITED;
    /* the specials, a control character and a stray byte that is not UTF-8 */
    set_workload(&r, "sh -c 'a < b && c > \"d\"' \x01 \xff end", MW_VERDICT_UNKNOWN, "x < y & z > \"w\"");
    char *svg = render(&r, "sweep_escape.svg");
    assert_has(svg, "sh -c &apos;a &lt; b &amp;&amp; c &gt; &quot;d&quot;&apos;   ? end");
    assert_has(svg, "x &lt; y &amp; z &gt; &quot;w&quot;");
    assert_has(svg, ">failed<");
    assert_null(strstr(svg, "\xE2\x80\xA6"));
    free(svg);

    /* a long reason is wrapped to three lines, the last cut with an ellipsis */
    char reason[512];
    size_t n = 0;
    while (n + 12 < sizeof reason) n += (size_t)snprintf(reason + n, sizeof reason - n, "word%03zu and ", n);
    set_workload(&r, "demo", MW_VERDICT_UNKNOWN, reason);
    svg = render(&r, NULL);
    const char *v = strstr(svg, "<g id=\"verdict\">");
    assert_non_null(v);
    const char *end = strstr(v, "</g>");
    size_t lines = 0;
    for (const char *t = strstr(v, "<text"); t && t < end; t = strstr(t + 1, "<text")) lines++;
    assert_int_equal(lines, 3);
    assert_has(svg, "\xE2\x80\xA6</text>");
    free(svg);
}

static void chart_without_points(void **state)
{
    (void)state;
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.mem_limit_bytes = 512 * MiB;
    set_workload(&r, "memwall run demo --batch {batch}", MW_VERDICT_UNKNOWN, "");
    char *svg = render(&r, "sweep_empty.svg");
    assert_has(svg, "no points");
    assert_null(strstr(svg, "class=\"mem-pt\""));
    free(svg);
}

static void chart_write_errors(void **state)
{
    (void)state;
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    mw_err err = {0};
    assert_int_equal(mw_sweep_report_svg(NULL, stdout, &err), MW_ERR_INVALID);
    assert_int_equal(mw_sweep_report_svg(&r, NULL, &err), MW_ERR_INVALID);
    FILE *full = fopen("/dev/full", "w");
    if (!full) skip();
    assert_int_equal(mw_sweep_report_svg(&r, full, &err), MW_ERR_IO);
    assert_non_null(strstr(err.msg, "SVG"));
    fclose(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checker_catches_bad_xml),
        cmocka_unit_test(chart_with_knee_and_wall),
        cmocka_unit_test(chart_with_cliff),
        cmocka_unit_test(chart_with_dense_points),
        cmocka_unit_test(chart_with_far_cap),
        cmocka_unit_test(chart_with_gpu_and_contexts),
        cmocka_unit_test(chart_below_ceilings),
        cmocka_unit_test(chart_escapes_text),
        cmocka_unit_test(chart_without_points),
        cmocka_unit_test(chart_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
