/*
 * roofline_svg.c - `memwall roofline MODEL --svg`: the model's points on a
 * log-log roofline (x: FLOP/byte, y: FLOP/s). The measured ceilings are
 * drawn: DRAM read as the slope that binds, each cache level's read as a
 * lighter slope, the FP32 peak as the flat roof, BF16 and INT8 peaks as
 * dashed lines when known. Predicted points are filled circles, labelled;
 * measured points hollow diamonds joined to their prediction.
 *
 * Self-contained like the sweep's chart (sweep_svg.c): no scripts, no
 * external fonts, the Okabe-Ito palette, shapes that read in grey, <title>
 * for the figures on hover. Pure output: no allocation.
 */
#include "memwall.h"
#include "common/error.h"
#include "report/json_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 800
#define H 520
#define PL 90.0
#define PR 700.0
#define PT 70.0
#define PB 440.0

#define C_ROOF "#222222"      /* DRAM slope and FP32 roof               */
#define C_CACHE "#999999"     /* cache levels' slopes (lighter)          */
#define C_PEAK2 "#CC79A7"     /* BF16 / INT8 peaks (dashed)              */
#define C_PRED "#0072B2"      /* predicted points                        */
#define C_MEAS "#D55E00"      /* measured points                         */
#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

typedef struct chart {
    double x0, x1;            /* log10 FLOP/byte at the plot's left and right */
    double y0, y1;            /* log10 FLOP/s at the bottom and top           */
} chart;

static double X(const chart *c, double v) { return PL + (log10(v) - c->x0) / (c->x1 - c->x0) * (PR - PL); }
static double Y(const chart *c, double v) { return PB - (log10(v) - c->y0) / (c->y1 - c->y0) * (PB - PT); }

static int pos(double v) { return v > 0 && isfinite(v); }

/* s as XML character data: the five specials escaped (s is already fit to
 * show: mw_shown, no controls). */
static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void widen(double v, double *lo, double *hi)
{
    if (!pos(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

static void layout(const mw_placement *p, chart *c)
{
    double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0;
    widen(p->ridge, &xlo, &xhi);
    const mw_ceilings *cl = &p->ceilings;
    widen(cl->peak_flops_f32, &ylo, &yhi);
    widen(cl->peak_flops_bf16, &ylo, &yhi);
    widen(cl->peak_ops_int8, &ylo, &yhi);
    for (size_t i = 0; i < p->n_points; i++) {
        const mw_place_point *pt = &p->points[i];
        widen(pt->intensity, &xlo, &xhi);
        widen(pt->attainable_flops_per_second, &ylo, &yhi);
        if (pt->measured) {
            widen(pt->measured_intensity, &xlo, &xhi);
            widen(pt->measured_flops_per_second, &ylo, &yhi);
        }
    }
    if (!(xhi > 0)) { xlo = 0.1; xhi = 100; }
    if (!(yhi > 0)) { ylo = 1e9; yhi = 1e12; }
    c->x0 = floor(log10(xlo)) - (log10(xlo) - floor(log10(xlo)) < 0.3 ? 1 : 0);
    c->x1 = ceil(log10(xhi)) + (ceil(log10(xhi)) - log10(xhi) < 0.3 ? 1 : 0);
    c->y0 = floor(log10(ylo)) - (log10(ylo) - floor(log10(ylo)) < 0.3 ? 1 : 0);
    c->y1 = ceil(log10(yhi)) + (ceil(log10(yhi)) - log10(yhi) < 0.3 ? 1 : 0);
    if (c->x1 - c->x0 < 2) c->x1 = c->x0 + 2;
    if (c->y1 - c->y0 < 2) c->y0 = c->y1 - 2;
}

/* The slope y = bw . x from the plot's left up to x_end (or its right),
 * clipped to the plot's y range. */
static void put_slope(FILE *out, const chart *c, double bw, double x_end, const char *style)
{
    double xa = pow(10, c->x0), xb = pow(10, c->x1);
    if (pos(x_end) && x_end < xb) xb = x_end;
    double ylo = pow(10, c->y0), yhi = pow(10, c->y1);
    if (ylo / bw > xa) xa = ylo / bw;
    if (yhi / bw < xb) xb = yhi / bw;
    if (!(xa < xb)) return;
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>\n", X(c, xa), Y(c, bw * xa), X(c, xb),
            Y(c, bw * xb), style);
}

/* v as "219 G" (3 significant digits, SI prefix). */
static const char *si(double v, char *buf, size_t cap)
{
    static const char *const pre[] = {"", "k", "M", "G", "T", "P", "E"};
    int i = 0;
    while (v >= 1000 && i < 6) {
        v /= 1000;
        i++;
    }
    snprintf(buf, cap, "%.3g %s", v, pre[i]);
    return buf;
}

/* A flat peak from x_start (or the left) to the right, with its name. */
static void put_roof(FILE *out, const chart *c, double peak, double x_start, const char *style, const char *name,
                     const char *unit, const char *color)
{
    double xa = pos(x_start) ? x_start : pow(10, c->x0), xb = pow(10, c->x1);
    if (log10(peak) < c->y0 || log10(peak) > c->y1 || !(xa < xb)) return;
    char a[32];
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>\n", X(c, xa), Y(c, peak), X(c, xb),
            Y(c, peak), style);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" text-anchor=\"end\">%s %s%s</text>\n",
            PR - 4, Y(c, peak) - 4, color, name, si(peak, a, sizeof a), unit);
}

static void put_axes(FILE *out, const chart *c)
{
    fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n", PL,
            PT, PR - PL, PB - PT);
    for (int e = (int)c->x0; e <= (int)c->x1; e++) {
        double v = pow(10, e), x = X(c, v);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#e4e4e4\"/>\n", x, PT, x, PB);
        fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%g</text>\n", x, PB + 16, v);
    }
    static const char *const pre[] = {"", "k", "M", "G", "T", "P", "E"};
    for (int e = (int)c->y0; e <= (int)c->y1; e++) {
        double y = Y(c, pow(10, e));
        fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", PL, y, PR, y);
        int k = e >= 0 ? e / 3 : 0;
        if (k > 6) k = 6;
        fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g %s</text>\n", PL - 6, y + 4,
                pow(10, e - 3 * k), pre[k]);
    }
    fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"middle\">arithmetic intensity, "
                 "FLOP/byte</text>\n", (PL + PR) / 2, PB + 36);
    fprintf(out, "<text x=\"20\" y=\"%.0f\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 20 %.0f)\">"
                 "FLOP/s</text>\n", (PT + PB) / 2, (PT + PB) / 2);
}

static void put_points(FILE *out, const mw_placement *p, const chart *c)
{
    for (size_t i = 0; i < p->n_points; i++) {
        const mw_place_point *pt = &p->points[i];
        if (!pos(pt->intensity)) continue;
        /* unknown ceilings: the point sits on the plot's floor, its height unknown */
        double yv = pos(pt->attainable_flops_per_second) ? pt->attainable_flops_per_second : pow(10, c->y0);
        double x = X(c, pt->intensity), y = Y(c, yv);
        if (pt->measured && pos(pt->measured_intensity) && pos(pt->measured_flops_per_second)) {
            double mx = X(c, pt->measured_intensity), my = Y(c, pt->measured_flops_per_second);
            fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"2 2\"/>\n",
                    x, y, mx, my, C_MEAS);
            fprintf(out, "<path class=\"measured\" d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\" fill=\"white\" stroke=\"%s\" "
                         "stroke-width=\"2\"><title>%s measured: %.3g FLOP/byte, %.3g GFLOP/s, %.2f of the attainable"
                         "</title></path>\n",
                    mx, my - 6, C_MEAS, pt->label, pt->measured_intensity, pt->measured_flops_per_second / 1e9,
                    pt->fraction);
        }
        fprintf(out, "<circle class=\"predicted\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>%s: %.3g "
                     "FLOP/byte, attainable %.3g GFLOP/s, %s bound</title></circle>\n",
                x, y, C_PRED, pt->label, pt->intensity, yv / 1e9, mw_place_bound_name(pt->bound));
        /* labels alternate above and below so that neighbours do not collide */
        fprintf(out, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" "
                     "text-anchor=\"middle\">%s</text>\n",
                x, i % 2 ? y + 18 : y - 9, C_PRED, pt->label);
    }
}

mw_status mw_placement_svg(const mw_placement *p, FILE *out, mw_err *err)
{
    chart c;
    layout(p, &c);
    const mw_ceilings *cl = &p->ceilings;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "font-family=\"%s\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H, FONT);
    fprintf(out, "<text x=\"%d\" y=\"26\" font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\">", W / 2);
    put_escaped(out, p->model);
    fprintf(out, " on this machine's roofline</text>\n");
    fprintf(out, "<text x=\"%d\" y=\"46\" font-size=\"12\" text-anchor=\"middle\">", W / 2);
    if (pos(p->ridge))
        fprintf(out, "DRAM read %.3g GB/s, FP32 peak %.3g GFLOP/s (%u threads): ridge %.3g FLOP/byte",
                cl->dram_read_bytes_per_second / 1e9, cl->peak_flops_f32 / 1e9, cl->threads, p->ridge);
    else fprintf(out, "a ceiling is unknown: the points' heights are not known");
    fprintf(out, "</text>\n");
    put_axes(out, &c);
    /* the cache levels' slopes first, under the DRAM roof */
    for (size_t l = 0; l + 1 < p->n_levels; l++) {
        const mw_place_level *lv = &p->levels[l];
        if (!pos(lv->read_bytes_per_second)) continue;
        double end = pos(cl->peak_flops_f32) ? cl->peak_flops_f32 / lv->read_bytes_per_second : -1;
        put_slope(out, &c, lv->read_bytes_per_second, end, "stroke=\"" C_CACHE "\" stroke-width=\"1\"");
        double xa = pow(10, c.x0), ya = lv->read_bytes_per_second * xa;
        if (log10(ya) < c.y0) xa = pow(10, c.y0) / lv->read_bytes_per_second, ya = pow(10, c.y0);
        if (log10(ya) <= c.y1)
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#777\">%s read</text>\n", X(&c, xa) + 4,
                    Y(&c, ya) - 4, lv->name);
    }
    if (pos(cl->dram_read_bytes_per_second)) {
        put_slope(out, &c, cl->dram_read_bytes_per_second, p->ridge, "stroke=\"" C_ROOF "\" stroke-width=\"2\"");
        /* its name below the slope, a third of the way along what is shown */
        double bw = cl->dram_read_bytes_per_second, xa = fmax(pow(10, c.x0), pow(10, c.y0) / bw);
        double xb = fmin(pos(p->ridge) ? p->ridge : pow(10, c.x1), fmin(pow(10, c.x1), pow(10, c.y1) / bw));
        if (xa < xb) {
            double xl = pow(10, log10(xa) + (log10(xb) - log10(xa)) / 3);
            char a[32];
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">DRAM read %sB/s</text>\n",
                    X(&c, xl) + 4, fmin(Y(&c, bw * xl) + 16, PB - 4), C_ROOF, si(bw, a, sizeof a));
        }
    }
    if (pos(cl->peak_flops_f32))
        put_roof(out, &c, cl->peak_flops_f32, p->ridge, "stroke=\"" C_ROOF "\" stroke-width=\"2\"", "FP32 peak", "FLOP/s", C_ROOF);
    if (pos(cl->peak_flops_bf16))
        put_roof(out, &c, cl->peak_flops_bf16, -1, "stroke=\"" C_PEAK2 "\" stroke-dasharray=\"6 4\"", "BF16 peak", "FLOP/s",
                 "#9B3F75");
    if (pos(cl->peak_ops_int8))
        put_roof(out, &c, cl->peak_ops_int8, -1, "stroke=\"" C_PEAK2 "\" stroke-dasharray=\"2 3\"", "INT8 peak", "OP/s",
                 "#9B3F75");
    put_points(out, p, &c);
    /* legend */
    double ly = PB + 58;
    fprintf(out, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"5\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">"
                 "predicted (attainable)</text>\n", PL, ly, C_PRED, PL + 10, ly + 4);
    fprintf(out, "<path d=\"M%.0f %.0fl6 6l-6 6l-6 -6z\" fill=\"white\" stroke=\"%s\" stroke-width=\"2\"/>"
                 "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">measured (--measure)</text>\n",
            PL + 170, ly - 6, C_MEAS, PL + 180, ly + 4);
    fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\"/><text x=\"%.0f\" y=\"%.0f\" "
                 "font-size=\"11\">cache levels' read</text>\n", PL + 330, ly, PL + 355, ly, C_CACHE, PL + 360, ly + 4);
    fprintf(out, "</svg>\n");
    return mw_report_end(out, "the roofline chart", err);
}
