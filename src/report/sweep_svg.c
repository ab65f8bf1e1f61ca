/*
 * sweep_svg.c - `memwall sweep`'s chart: peak memory and throughput against
 * the batch (or the context), with the cap, the knee, the cliff and the verdict.
 *
 * One self-contained SVG: no scripts, no external fonts or images, so it
 * opens the same in a browser, an image viewer or a README. Colours are the
 * Okabe-Ito palette (readable with the common colour-vision deficiencies),
 * and every series also differs by marker shape, so the chart still reads
 * in grey. Hovering a marker shows the point's figures (<title>, no script).
 *
 * Pure output: no allocation. Points are visited in axis order by rescanning
 * for the next larger one (a sweep has tens of points, not thousands).
 */
#include "memwall.h"
#include "common/error.h"
#include "report/json_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Canvas and plot area in SVG user units (px). The margins hold the title
 * and three subtitle lines above, the knee/cliff labels between them and the
 * plot, tick labels and axis titles on three sides, and the legend below. */
#define W 800
#define H 450
#define PL 84.0
#define PR 716.0
#define PT 114.0
#define PB 350.0

#define C_MEM "#0072B2"       /* blue: peak memory                        */
#define C_THR "#E69F00"       /* orange: throughput (lines and markers)   */
#define C_THR_TEXT "#9A6400"  /* darker orange: its text, for contrast    */
#define C_FAIL "#D55E00"      /* vermillion: points that did not finish   */
#define C_KNEE "#009E73"      /* bluish green                              */
#define C_KNEE_TEXT "#00694D"
#define C_CLIFF "#CC79A7"     /* reddish purple                            */
#define C_CLIFF_TEXT "#9B3F75"
#define C_GPU "#56B4E9"       /* sky blue: GPU memory (diamonds)           */
#define C_CAP "#333333"
/* Points judged "below both ceilings" (docs/SWEEP.md, "Verdicts against the
 * ceilings"): their throughput markers hollow, white inside an orange rim. */
#define C_BELOW_FILL "#ffffff"
#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

/* Text widths are estimated, since the viewer's font is unknown: average
 * advance per character as a share of the font size (DejaVu Sans is the
 * widest of the listed families, so estimates err towards room to spare). */
#define CHAR_W 0.6

#define TITLE_MAX_CHARS 72     /* 16px bold across 760 px, capitals included */
#define SUBTITLE_MAX_CHARS 115 /* 12px across 760 px, per line              */
#define SUBTITLE_LINES 3

typedef struct chart {
    double xlo, xhi;           /* log2(batch) at the plot's left and right  */
    double mtop;               /* bytes at the plot's top                   */
    double mstep;              /* bytes per gridline                        */
    int    ngrid;              /* gridline intervals (both y axes share them) */
    double ttop, tstep;        /* throughput at the top, per gridline       */
    int    have_thr;           /* any throughput to draw                    */
    int    cap_on;             /* the cap fits the memory axis              */
} chart;


/* The point's value on the sweep's axis (the chart's x). */
static uint32_t px(const mw_sweep_result *r, const mw_sweep_point *p)
{
    return mw_sweep_point_x(p, r->analysis.axis);
}

/* GPU memory is drawn for points that finished holding some. */
static int has_gpu(const mw_sweep_point *p)
{
    return p->status == MW_POINT_OK && mw_sweep_point_gpu_memory(p) != MW_UNKNOWN;
}

/* Throughput is drawn for points that finished with a finite, known figure. */
static int has_throughput(const mw_sweep_point *p)
{
    return p->status == MW_POINT_OK && p->throughput >= 0 && isfinite(p->throughput);
}

/* The index of the point after `prev` in (batch, index) order; -1 at the end
 * (prev -1: the first). Equal batches keep the order they ran in. */
static long next_point(const mw_sweep_result *r, long prev)
{
    long best = -1;
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *q = &r->points[i];
        if (prev >= 0) {
            const mw_sweep_point *p = &r->points[prev];
            if (px(r, q) < px(r, p) || (px(r, q) == px(r, p) && (long)i <= prev)) continue;
        }
        if (best < 0 || px(r, q) < px(r, &r->points[best])) best = (long)i;
    }
    return best;
}

/* ---- text: XML escaping, UTF-8 checking, truncation and wrapping -------- */

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    if (s[0] < 0x80) return 1;
    size_t n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (n == 0 || n > avail) return 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    if (n == 3 && s[0] == 0xE0 && s[1] < 0xA0) return 0;          /* overlong   */
    if (n == 3 && s[0] == 0xED && s[1] >= 0xA0) return 0;         /* surrogates */
    if (n == 4 && s[0] == 0xF0 && s[1] < 0x90) return 0;          /* overlong   */
    if (n == 4 && s[0] == 0xF4 && s[1] >= 0x90) return 0;         /* > U+10FFFF */
    return n;
}

/* Characters (code points; an invalid byte counts as one) in s[0..n). */
static size_t text_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; chars++) {
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        i += l ? l : 1;
    }
    return chars;
}

/* Byte length of the first `chars` characters of s[0..n). */
static size_t text_prefix(const char *s, size_t n, size_t chars)
{
    size_t i = 0;
    while (i < n && chars-- > 0) {
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        i += l ? l : 1;
    }
    return i;
}

/* Writes s[0..n) as XML character data: the five specials escaped, control
 * characters as spaces and invalid UTF-8 as '?' (either would make the
 * document ill-formed; a workload's command line may hold anything). */
static void put_escaped(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        if (l == 0) { fputc('?', out); i++; continue; }
        if (l > 1) {
            /* U+FFFE and U+FFFF are not XML characters either */
            if (l == 3 && c == 0xEF && (unsigned char)s[i + 1] == 0xBF && (unsigned char)s[i + 2] >= 0xBE)
                fputc('?', out);
            else fwrite(s + i, 1, l, out);
            i += l;
            continue;
        }
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default: fputc(c < 0x20 || c == 0x7F ? ' ' : (int)c, out); break;
        }
        i++;
    }
}

/* Writes s escaped, cut to max_chars with an ellipsis when longer. */
static void put_truncated(FILE *out, const char *s, size_t max_chars)
{
    size_t n = strlen(s);
    if (text_chars(s, n) <= max_chars) {
        put_escaped(out, s, n);
        return;
    }
    put_escaped(out, s, text_prefix(s, n, max_chars - 1));
    fputs("\xE2\x80\xA6", out);
}

/* Writes s as up to max_lines <text> lines of at most max_chars, broken at
 * spaces where one is near; the last line ends in an ellipsis when cut. */
static void put_wrapped(FILE *out, const char *s, size_t max_chars, int max_lines, double x, double y,
                        double dy, const char *attrs)
{
    size_t n = strlen(s);
    for (int line = 0; line < max_lines && n > 0; line++) {
        while (n > 0 && *s == ' ') { s++; n--; }
        size_t take = n;
        int cut = 0;
        if (text_chars(s, n) > max_chars) {
            if (line == max_lines - 1) {
                take = text_prefix(s, n, max_chars - 1);
                cut = 1;
            } else {
                take = text_prefix(s, n, max_chars);
                size_t sp = take;
                while (sp > 0 && s[sp] != ' ') sp--;
                if (sp > take / 2) take = sp;   /* a break that keeps most of the line */
            }
        }
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y + dy * line, attrs);
        put_escaped(out, s, take);
        if (cut) fputs("\xE2\x80\xA6", out);
        fputs("</text>\n", out);
        s += take;
        n -= take;
    }
}

/* ---- scales ------------------------------------------------------------- */

static double xpos(const chart *c, double batch)
{
    double l = log2(batch >= 1 ? batch : 1);
    return PL + (l - c->xlo) / (c->xhi - c->xlo) * (PR - PL);
}

static double ymem(const chart *c, double bytes)
{
    return PB - bytes / c->mtop * (PB - PT);
}

static double ythr(const chart *c, double t)
{
    return PB - t / c->ttop * (PB - PT);
}

/* The smallest of 1, 2, 2.5, 5 times a power of ten that is >= x (> 0). */
static double nice_ceil(double x)
{
    double base = pow(10, floor(log10(x)));
    static const double m[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < MW_ARRAY_LEN(m); i++)
        if (m[i] * base >= x * (1 - 1e-9)) return m[i] * base;
    return 10 * base;
}

/* A memory tick: mw_size_format's three digits without trailing zeros
 * ("80 MiB", "1.5 GiB", "1.25 GiB"): the steps are round, the zeros noise. */
static void format_mem(uint64_t bytes, char *buf, size_t cap)
{
    char tmp[32];
    mw_size_format(bytes, tmp, sizeof tmp);
    char *dot = strchr(tmp, '.'), *space = strchr(tmp, ' ');
    if (dot && space && dot < space) {
        char *end = space;
        while (end > dot + 1 && end[-1] == '0') end--;
        if (end == dot + 1) end = dot;
        memmove(end, space, strlen(space) + 1);
    }
    snprintf(buf, cap, "%s", tmp);
}

/* A throughput tick: as many decimals as the step needs, K and M past 10^4. */
static void format_thr(double v, double step, double top, char *buf, size_t cap)
{
    const char *suffix = "";
    if (top >= 1e7) { v /= 1e6; step /= 1e6; suffix = " M"; }
    else if (top >= 1e4) { v /= 1e3; step /= 1e3; suffix = " K"; }
    int d = 0;
    while (d < 3 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6) d++;
    snprintf(buf, cap, "%.*f%s", d, v, suffix);
}

static void layout(const mw_sweep_result *r, chart *c)
{
    memset(c, 0, sizeof *c);
    const mw_sweep_analysis *an = &r->analysis;
    double lo = INFINITY, hi = -INFINITY, maxm = 0, maxt = 0;
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        double l = log2(px(r, p) >= 1 ? px(r, p) : 1);
        lo = fmin(lo, l);
        hi = fmax(hi, l);
        if (mw_sweep_point_memory(p) != MW_UNKNOWN) maxm = fmax(maxm, (double)mw_sweep_point_memory(p));
        if (has_gpu(p)) maxm = fmax(maxm, (double)p->peak_gpu_bytes);
        if (has_throughput(p)) {
            maxt = fmax(maxt, p->throughput);
            c->have_thr = 1;
        }
    }
    const uint32_t marks[] = {an->knee, an->cliff};
    for (size_t k = 0; k < MW_ARRAY_LEN(marks); k++)
        if (marks[k]) {
            lo = fmin(lo, log2(marks[k]));
            hi = fmax(hi, log2(marks[k]));
        }
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    double pad = 0.06 * (hi - lo);   /* keeps the end markers off the frame */
    c->xlo = lo - pad;
    c->xhi = hi + pad;

    /* A cap far above every measured peak (the default safety cap on a big
     * machine) would flatten the data to the floor: then it is named, not
     * drawn to scale. */
    uint64_t cap = r->mem_limit_bytes;
    c->cap_on = cap != MW_UNLIMITED && cap > 0 && (maxm == 0 || (double)cap <= 4 * maxm);
    double range = fmax(maxm, c->cap_on ? (double)cap : 0) * 1.12;
    if (!(range > 0)) range = 1024.0 * 1024.0;
    /* Power-of-two steps read as memory sizes (128 MiB, 256 MiB, ...):
     * the smallest >= range/8 gives 5 to 8 gridlines. */
    double step = 1;
    while (step < range / 8) step *= 2;
    c->mstep = step;
    c->ngrid = (int)ceil(range / step - 1e-9);
    if (c->ngrid < 1) c->ngrid = 1;
    c->mtop = step * c->ngrid;

    /* The throughput axis shares the gridlines, so one grid serves both. */
    c->tstep = maxt > 0 ? nice_ceil(maxt * 1.05 / c->ngrid) : 1;
    c->ttop = c->tstep * c->ngrid;
}

/* ---- drawing ------------------------------------------------------------ */

/* A hollow X centred on (x, y): the points that did not finish. */
static void put_cross(FILE *out, double x, double y, double s)
{
    double a = s, b = s * 2 / 3, t = s / 3;   /* arm reach, corner, waist */
    fprintf(out,
            "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1f"
            "L%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"#ffffff\" stroke=\"" C_FAIL "\" stroke-width=\"1.6\"",
            x - a, y - b, x - b, y - a, x, y - t, x + b, y - a, x + a, y - b, x + t, y, x + a, y + b, x + b, y + a, x,
            y + t, x - b, y + a, x - a, y + b, x - t, y);
}

/* A diamond centred on (x, y): the GPU memory markers. */
static void put_diamond(FILE *out, double x, double y)
{
    fprintf(out, "<path class=\"gpu-pt\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"" C_GPU
                 "\" stroke=\"#ffffff\" stroke-width=\"1\"/>", x, y - 5.5, x + 5.5, y, x, y + 5.5, x - 5.5, y);
}

static void put_point_title(FILE *out, const mw_sweep_result *r, size_t i)
{
    const mw_sweep_point *p = &r->points[i];
    char mem[32], thr[48];
    if (has_throughput(p)) snprintf(thr, sizeof thr, "%.1f items/s", p->throughput);
    else snprintf(thr, sizeof thr, "throughput unknown");
    fprintf(out, "<title>%s %u: %s, peak %s, %s, %s</title>", mw_sweep_axis_name(r->analysis.axis), px(r, p),
            mw_point_status_name(p->status),
            mw_size_format(mw_sweep_point_memory(p), mem, sizeof mem), thr,
            r->verdicts ? mw_verdict_name(r->verdicts[i]) : "no verdict");
}

/* A polyline through one series' points in axis order (which: 0 measured
 * memory of finished points, 1 throughput, 2 the plan's prediction, 3 GPU
 * memory). */
static void put_line(FILE *out, const mw_sweep_result *r, const chart *c, const char *id, const char *style,
                     int which)
{
    fprintf(out, "<polyline id=\"%s\" fill=\"none\" %s points=\"", id, style);
    int first = 1;
    for (long i = next_point(r, -1); i >= 0; i = next_point(r, i)) {
        const mw_sweep_point *p = &r->points[i];
        double y;
        if (which == 0) {            /* measured memory of finished points */
            if (p->status != MW_POINT_OK || mw_sweep_point_memory(p) == MW_UNKNOWN) continue;
            y = ymem(c, (double)mw_sweep_point_memory(p));
        } else if (which == 1) {     /* throughput */
            if (!has_throughput(p)) continue;
            y = ythr(c, p->throughput);
        } else if (which == 2) {     /* the plan's prediction */
            if (p->predicted_bytes == MW_UNKNOWN) continue;
            y = ymem(c, (double)p->predicted_bytes);
        } else {                     /* GPU memory */
            if (!has_gpu(p)) continue;
            y = ymem(c, (double)p->peak_gpu_bytes);
        }
        fprintf(out, "%s%.1f,%.1f", first ? "" : " ", xpos(c, px(r, p)), y);
        first = 0;
    }
    fputs("\"/>\n", out);
}

static void put_axes(FILE *out, const mw_sweep_result *r, const chart *c)
{
    char buf[48];
    /* horizontal gridlines with both axes' ticks */
    for (int k = 0; k <= c->ngrid; k++) {
        double y = PB - (PB - PT) * k / c->ngrid;
        if (k > 0) fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n", PL, y, PR, y);
        if (k == 0) snprintf(buf, sizeof buf, "0");
        else format_mem((uint64_t)(c->mstep * k), buf, sizeof buf);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"" C_MEM "\">%s</text>\n", PL - 6, y + 4,
                buf);
        if (c->have_thr) {
            format_thr(c->tstep * k, c->tstep, c->ttop, buf, sizeof buf);
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"" C_THR_TEXT "\">%s</text>\n", PR + 6, y + 4, buf);
        }
    }
    /* batch ticks at the measured batches; labels skip those that would touch */
    double last_end = -1e9;
    uint32_t prev = 0;
    int any = 0;
    for (long i = next_point(r, -1); i >= 0; i = next_point(r, i)) {
        uint32_t b = px(r, &r->points[i]);
        if (any && b == prev) continue;
        any = 1;
        prev = b;
        double x = xpos(c, b);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f0f0f0\"/>\n", x, PT, x, PB);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>\n", x, PB, x, PB + 5);
        int len = snprintf(buf, sizeof buf, "%u", b);
        double half = len * 11 * CHAR_W / 2;
        if (x - half >= last_end + 4) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#333\">%s</text>\n", x, PB + 18, buf);
            last_end = x + half;
        }
    }
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n", PL, PT,
            PR - PL, PB - PT);
    double mid = (PT + PB) / 2;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#333\">%s (log2 scale)</text>\n",
            (PL + PR) / 2, PB + 38, r->analysis.axis == MW_SWEEP_CTX ? "context, tokens per sequence" : r->analysis.axis == MW_SWEEP_BUDGET ? "weight budget, KiB (issue #15)" : "batch");
    fprintf(out, "<text transform=\"translate(20 %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"" C_MEM
                 "\" font-size=\"12\">peak memory</text>\n", mid);
    fprintf(out, "<text transform=\"translate(786 %.1f) rotate(90)\" text-anchor=\"middle\" fill=\"" C_THR_TEXT
                 "\" font-size=\"12\">%s</text>\n", mid, c->have_thr ? "throughput (items/s)" : "throughput (not measured)");
}

/* White halo behind text drawn over the data. */
#define HALO "stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\""

static void put_cap(FILE *out, const mw_sweep_result *r, const chart *c)
{
    if (r->mem_limit_bytes == MW_UNLIMITED || r->mem_limit_bytes == 0) return;
    char size[32];
    mw_size_format(r->mem_limit_bytes, size, sizeof size);
    if (!c->cap_on) {
        fprintf(out, "<text id=\"cap\" x=\"%.1f\" y=\"%.1f\" fill=\"" C_CAP "\" %s>cap %s (above the chart)</text>\n",
                PL + 6, PT + 14, HALO, size);
        return;
    }
    double y = ymem(c, (double)r->mem_limit_bytes);
    fprintf(out, "<g id=\"cap\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_CAP
                 "\" stroke-width=\"1.5\" stroke-dasharray=\"8 5\"/>\n", PL, y, PR, y);
    /* at the left end: small batches sit low on both axes, so it is free */
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"" C_CAP "\" %s>cap %s</text></g>\n", PL + 6, y - 6, HALO, size);
}

/* The knee and the cliff: dotted verticals, labelled above the plot. */
static void put_marks(FILE *out, const mw_sweep_result *r, const chart *c)
{
    const mw_sweep_analysis *an = &r->analysis;
    uint32_t kb = an->knee, cb = an->cliff;
    double xk = kb ? xpos(c, kb) : 0, xc = cb ? xpos(c, cb) : 0;
    if (kb) fprintf(out, "<line id=\"knee\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_KNEE
                         "\" stroke-width=\"2\" stroke-dasharray=\"2 4\" stroke-linecap=\"round\"/>\n", xk, PT - 2, xk, PB);
    if (cb) fprintf(out, "<line id=\"cliff\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_CLIFF
                         "\" stroke-width=\"2\" stroke-dasharray=\"2 4\" stroke-linecap=\"round\"/>\n", xc, PT - 2, xc, PB);

    char kl[48], cl[48];
    const char *xn = mw_sweep_axis_name(an->axis);
    int kn = snprintf(kl, sizeof kl, "knee: %s %u", xn, kb), cn = snprintf(cl, sizeof cl, "cliff: %s %u", xn, cb);
    double y = PT - 10, fs = 12;
    if (kb && cb && kb == cb) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"" C_CLIFF_TEXT
                     "\" font-weight=\"bold\">knee and cliff: %s %u</text>\n", xk, y, xn, kb);
        return;
    }
    /* Centred over the line unless the two would touch: then each leans away
     * from the other. Clamped so that neither leaves the canvas. */
    const char *ka = "middle", *ca = "middle";
    double kx = xk, cx = xc;
    double kw = kn * fs * CHAR_W, cw = cn * fs * CHAR_W;
    if (kb && cb && fabs(xk - xc) < (kw + cw) / 2 + 8) {
        int knee_left = xk < xc;
        ka = knee_left ? "end" : "start";
        ca = knee_left ? "start" : "end";
        kx = xk + (knee_left ? 3 : -3);
        cx = xc + (knee_left ? -3 : 3);
        /* kx/cx now anchor at an end: clamp the far end inside the canvas */
        if (knee_left) { if (kx - kw < 4) kx = 4 + kw; if (cx + cw > W - 4) cx = W - 4 - cw; }
        else { if (cx - cw < 4) cx = 4 + cw; if (kx + kw > W - 4) kx = W - 4 - kw; }
    } else {
        if (kx - kw / 2 < 4) kx = 4 + kw / 2;
        if (kx + kw / 2 > W - 4) kx = W - 4 - kw / 2;
        if (cx - cw / 2 < 4) cx = 4 + cw / 2;
        if (cx + cw / 2 > W - 4) cx = W - 4 - cw / 2;
    }
    if (kb) fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"" C_KNEE_TEXT
                         "\" font-weight=\"bold\">%s</text>\n", kx, y, ka, kl);
    if (cb) fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"" C_CLIFF_TEXT
                         "\" font-weight=\"bold\">%s</text>\n", cx, y, ca, cl);
}

/* Where a point that did not finish is drawn: at the cap it ran into (a
 * GPU's out-of-memory: at its last GPU memory, or the top); with no cap on
 * the chart, at its last peak, or at the top when that is unknown. */
static double fail_y(const mw_sweep_result *r, const chart *c, const mw_sweep_point *p)
{
    if (p->oom == MW_OOM_GPU)
        return mw_sweep_point_gpu_memory(p) != MW_UNKNOWN ? fmax(PT, ymem(c, (double)p->peak_gpu_bytes)) : PT;
    if (c->cap_on) return ymem(c, (double)r->mem_limit_bytes);
    return mw_sweep_point_memory(p) != MW_UNKNOWN ? fmax(PT, ymem(c, (double)mw_sweep_point_memory(p))) : PT;
}

static void put_points(FILE *out, const mw_sweep_result *r, const chart *c, int any_pred)
{
    if (any_pred) {
        fputs("<g clip-path=\"url(#mw-plot)\">\n", out);
        put_line(out, r, c, "plan-line", "stroke=\"" C_MEM "\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\" opacity=\"0.8\"", 2);
        for (size_t i = 0; i < r->n_points; i++) {
            const mw_sweep_point *p = &r->points[i];
            if (p->predicted_bytes == MW_UNKNOWN) continue;
            fprintf(out, "<circle class=\"plan-pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#ffffff\" stroke=\"" C_MEM
                         "\" stroke-width=\"1.2\"/>\n", xpos(c, px(r, p)), ymem(c, (double)p->predicted_bytes));
        }
        fputs("</g>\n", out);
    }
    put_line(out, r, c, "mem-line", "stroke=\"" C_MEM "\" stroke-width=\"2.2\" stroke-linejoin=\"round\"", 0);
    int any_gpu = 0;
    for (size_t i = 0; i < r->n_points; i++) any_gpu |= has_gpu(&r->points[i]);
    if (any_gpu)
        put_line(out, r, c, "gpu-line", "stroke=\"" C_GPU "\" stroke-width=\"2.2\" stroke-linejoin=\"round\"", 3);
    if (c->have_thr)
        put_line(out, r, c, "thr-line", "stroke=\"" C_THR "\" stroke-width=\"2.2\" stroke-linejoin=\"round\"", 1);
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        double x = xpos(c, px(r, p));
        int below = r->verdicts && r->verdicts[i] == MW_VERDICT_BELOW_CEILINGS;
        fputs(below ? "<g class=\"below-ceilings\">" : "<g>", out);
        put_point_title(out, r, i);
        if (p->status != MW_POINT_OK) {
            /* at the cap it ran into; without one, at its last peak */
            put_cross(out, x, fail_y(r, c, p), 6);
            fprintf(out, " class=\"fail-pt\"/>");
        } else if (mw_sweep_point_memory(p) != MW_UNKNOWN) {
            fprintf(out, "<circle class=\"mem-pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"" C_MEM
                         "\" stroke=\"#ffffff\" stroke-width=\"1\"/>", x, ymem(c, (double)mw_sweep_point_memory(p)));
        }
        if (has_gpu(p)) put_diamond(out, x, ymem(c, (double)p->peak_gpu_bytes));
        if (has_throughput(p)) {
            double y = ythr(c, p->throughput);
            if (below)
                fprintf(out, "<rect class=\"thr-pt\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\""
                             C_BELOW_FILL "\" stroke=\"" C_THR "\" stroke-width=\"2\"/>", x - 4, y - 4);
            else
                fprintf(out, "<rect class=\"thr-pt\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"" C_THR
                             "\" stroke=\"#ffffff\" stroke-width=\"1\"/>", x - 4, y - 4);
        }
        fputs("</g>\n", out);
    }
    /* status names under the crosses, in batch order, skipping any that would
     * touch the one before: the smallest failing batch (the wall) keeps its */
    double last_end = -1e9;
    for (long i = next_point(r, -1); i >= 0; i = next_point(r, i)) {
        const mw_sweep_point *p = &r->points[i];
        if (p->status == MW_POINT_OK) continue;
        const char *name = mw_point_status_name(p->status);
        double x = xpos(c, px(r, p)), half = strlen(name) * 10 * CHAR_W / 2;
        if (x - half < last_end + 3) continue;
        double y = fail_y(r, c, p);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"" C_FAIL "\" %s>%s</text>\n",
                x, y + 18, HALO, name);
        last_end = x + half;
    }
}

/* The legend: one row, centred under the axis title. */
static void put_legend(FILE *out, int any_pred, int any_fail, int any_gpu, int any_below)
{
    struct { const char *label; int kind; } items[6];
    size_t n = 0;
    /* six items fit in a row without the axes' sides */
    const int all = any_gpu && any_pred && any_fail && any_below;
    items[n].label = any_gpu ? (all ? "host memory" : "host memory (left)") : "peak memory (left)"; items[n++].kind = 0;
    if (any_gpu) { items[n].label = all ? "GPU memory" : "GPU memory (left)"; items[n++].kind = 4; }
    items[n].label = all ? "throughput" : "throughput (right)"; items[n++].kind = 1;
    if (any_pred) { items[n].label = "plan's prediction"; items[n++].kind = 2; }
    if (any_fail) { items[n].label = "did not finish"; items[n++].kind = 3; }
    if (any_below) { items[n].label = "below both ceilings"; items[n++].kind = 5; }
    /* 0.55: legend words are mostly lower case, narrower than CHAR_W */
    const double fs = 12 * 0.55 / CHAR_W;
    double sym = 26, gap = 24, total = 0;
    for (size_t i = 0; i < n; i++) total += sym + 6 + strlen(items[i].label) * fs * CHAR_W + (i + 1 < n ? gap : 0);
    if (total > W - 24) { /* five or six items: tighter */
        total -= (double)n * 6 + (double)(n - 1) * 12;
        sym = 20;
        gap = 12;
    }
    double x = (W - total) / 2, y = H - 22;
    fputs("<g id=\"legend\">\n", out);
    for (size_t i = 0; i < n; i++) {
        double cx = x + sym / 2;
        switch (items[i].kind) {
        case 0:
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_MEM "\" stroke-width=\"2.2\"/>"
                         "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"" C_MEM "\"/>\n", x, y - 4, x + sym, y - 4, cx, y - 4);
            break;
        case 1:
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_THR "\" stroke-width=\"2.2\"/>"
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"" C_THR "\"/>\n", x, y - 4, x + sym, y - 4,
                    cx - 4, y - 8);
            break;
        case 2:
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_MEM "\" stroke-width=\"1.2\" "
                         "stroke-dasharray=\"4 3\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#ffffff\" stroke=\"" C_MEM
                         "\" stroke-width=\"1.2\"/>\n", x, y - 4, x + sym, y - 4, cx, y - 4);
            break;
        case 5: /* a hollow throughput marker */
            fprintf(out, "<rect class=\"below-key\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\""
                         C_BELOW_FILL "\" stroke=\"" C_THR "\" stroke-width=\"2\"/>\n", cx - 4, y - 8);
            break;
        case 4:
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GPU "\" stroke-width=\"2.2\"/>",
                    x, y - 4, x + sym, y - 4);
            put_diamond(out, cx, y - 4);
            fputs("\n", out);
            break;
        default:
            put_cross(out, cx, y - 4, 6);
            fputs("/>\n", out);
            break;
        }
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\">%s</text>\n", x + sym + 6, y, items[i].label);
        x += sym + 6 + strlen(items[i].label) * fs * CHAR_W + gap;
    }
    fputs("</g>\n", out);
}

mw_status mw_sweep_report_svg(const mw_sweep_result *r, FILE *out, mw_err *err)
{
    MW_RETURN_IF(!r || !out || (r->n_points && !r->points), err, MW_ERR_INVALID,
                 "sweep chart: no result or no output stream");
    chart c;
    layout(r, &c);
    int any_pred = 0, any_fail = 0, any_gpu = 0, any_below = 0;
    for (size_t i = 0; i < r->n_points; i++) {
        any_below |= r->verdicts && r->verdicts[i] == MW_VERDICT_BELOW_CEILINGS;
        any_pred |= r->points[i].predicted_bytes != MW_UNKNOWN;
        any_gpu |= has_gpu(&r->points[i]);
        any_fail |= r->points[i].status != MW_POINT_OK;
    }

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "font-family=\"" FONT "\" font-size=\"11\">\n", W, H, W, H);
    fputs("<title>memwall sweep: ", out);
    put_truncated(out, r->workload, 200);
    fputs("</title>\n", out);
    fprintf(out, "<defs><clipPath id=\"mw-plot\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                 "</clipPath></defs>\n", PL, PT, PR - PL, PB - PT);
    fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);

    fputs("<text id=\"title\" x=\"20\" y=\"26\" font-size=\"16\" font-weight=\"bold\" fill=\"#111\">", out);
    put_truncated(out, r->workload[0] ? r->workload : "memwall sweep", TITLE_MAX_CHARS);
    fputs("</text>\n", out);

    /* "verdict: NAME - reason", wrapped: the reason carries the numbers */
    char sub[sizeof r->analysis.reason + 64];
    const mw_sweep_analysis *an = &r->analysis;
    snprintf(sub, sizeof sub, "verdict: %s%s%s", r->n_points ? mw_verdict_name(an->overall) : "no points",
             an->reason[0] ? " \xE2\x80\x94 " : "", an->reason);
    fputs("<g id=\"verdict\">\n", out);
    put_wrapped(out, sub, SUBTITLE_MAX_CHARS, SUBTITLE_LINES, 20, 48, 16, "font-size=\"12\" fill=\"#333\"");
    fputs("</g>\n", out);

    if (r->n_points == 0) {
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n", PL,
                PT, PR - PL, PB - PT);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"16\" fill=\"#555\">"
                     "no points: the sweep measured nothing</text>\n", (PL + PR) / 2, (PT + PB) / 2);
    } else {
        put_axes(out, r, &c);
        put_cap(out, r, &c);
        put_marks(out, r, &c);
        put_points(out, r, &c, any_pred);
        put_legend(out, any_pred, any_fail, any_gpu, any_below);
    }
    fputs("</svg>\n", out);
    return mw_report_end(out, "sweep chart (SVG)", err);
}
