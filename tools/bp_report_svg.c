/*
 * bp_report_svg.c -- the charts of `bp report`, drawn as inline SVG: a horizontal bar
 * chart (groups of bars, one per model) and a line chart (one line per series). Both have
 * a title, axes with their units and a legend, and they read without colour too: each bar
 * carries its value and its model's name, each line its name at its end and a marker shape
 * of its own.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bp_report.h"

/* Okabe and Ito's palette, which stays distinct for colour-blind readers (its yellow left
 * out: unreadable on white). */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000"};
enum { N_COLOURS = sizeof palette / sizeof palette[0] };

const char *series_colour(size_t i)
{
    return palette[i % N_COLOURS];
}

enum {
    CHART_WIDTH = 900,
    TITLE_Y = 22,
    LEGEND_Y = 44,     /* the baseline of the legend's row */
    LEGEND_ITEM = 210, /* room per legend item */
    LABEL_CHARS = 30,  /* longer names are cut on the chart (the tables have them whole) */
    FONT_SIZE = 12,
};

/* A round step for about `ticks` ticks up to `max`: 1, 2 or 5 times a power of ten. */
static double nice_step(double max, int ticks)
{
    if (!(max > 0))
        return 1;
    double raw = max / ticks, power = pow(10, floor(log10(raw))), unit = raw / power;
    return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/* The largest finite value of values[0..n) (0 if none is). */
static double finite_max(const double *values, size_t n)
{
    double max = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i]) && values[i] > max)
            max = values[i];
    return max;
}

/* A name as the charts show it: at most LABEL_CHARS bytes, cut at a character boundary. */
static void out_short_name(output *out, const char *name)
{
    size_t len = strlen(name);
    if (len <= LABEL_CHARS) {
        out_html(out, name);
        return;
    }
    size_t cut = LABEL_CHARS - 1;
    while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80)
        cut--;
    char shortened[LABEL_CHARS + 4];
    memcpy(shortened, name, cut);
    memcpy(shortened + cut, "\xE2\x80\xA6", 4); /* an ellipsis, and the NUL */
    out_html(out, shortened);
}

/* A value with the chart's format. */
static void out_value(output *out, const char *format, double value)
{
    char text[64];
    snprintf(text, sizeof text, format, value);
    out_html(out, text);
}

static void open_svg(output *out, const char *title, int height)
{
    out_printf(out,
               "<svg class=\"chart\" role=\"img\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" "
               "font-family=\"sans-serif\" font-size=\"%d\">\n<title>",
               CHART_WIDTH, height, CHART_WIDTH, height, FONT_SIZE);
    out_html(out, title);
    out_printf(out, "</title>\n<text x=\"%d\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">",
               10, TITLE_Y);
    out_html(out, title);
    out_printf(out, "</text>\n");
}

/* Draws marker `shape` (0 circle, 1 square, 2 triangle, 3 diamond, 4 cross, ...) at x, y. */
static void marker(output *out, size_t shape, double x, double y, const char *colour)
{
    switch (shape % 5) {
    case 0:
        out_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", x, y, colour);
        break;
    case 1:
        out_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"/>",
                   x - 4, y - 4, colour);
        break;
    case 2:
        out_printf(out, "<path d=\"M%.1f %.1fl5 9h-10z\" fill=\"%s\"/>", x, y - 5, colour);
        break;
    case 3:
        out_printf(out, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\"/>", x, y - 5,
                   colour);
        break;
    default:
        out_printf(out,
                   "<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\" stroke=\"%s\" stroke-width=\"2.5\"/>",
                   x - 4, y - 4, colour);
    }
    out_printf(out, "\n");
}

/* The legend row under the title: a swatch (with the marker shape when `markers`) and the
 * name of each series. */
static void legend(output *out, const char *const *names, size_t n, size_t colour_offset,
                   bool markers)
{
    for (size_t i = 0; i < n; i++) {
        double x = 10 + (double)(i % 4) * LEGEND_ITEM, y = LEGEND_Y + (double)(i / 4) * 18;
        const char *colour = series_colour(colour_offset + i);
        if (markers)
            marker(out, i, x + 7, y - 4, colour);
        else
            out_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" "
                       "fill=\"%s\"/>\n", x, y - 9, colour);
        out_printf(out, "<text x=\"%.1f\" y=\"%.1f\">", x + 20, y);
        out_short_name(out, names[i]);
        out_printf(out, "</text>\n");
    }
}

static int legend_height(size_t n)
{
    return (int)((n + 3) / 4) * 18;
}

/*====== Bar chart ======*/

enum { BAR = 16, BAR_GAP = 3, GROUP_GAP = 14, ROW_LABELS = 190, VALUE_LABELS = 250 };

void svg_bar_chart(output *out, const bar_chart *c)
{
    int top = LEGEND_Y + legend_height(c->n_models) + 6;
    int group = (int)c->n_models * (BAR + BAR_GAP) - BAR_GAP;
    int plot_height = (int)c->n_rows * (group + GROUP_GAP);
    int height = top + plot_height + 50;
    double x0 = ROW_LABELS + 10, x1 = CHART_WIDTH - VALUE_LABELS;
    double max = finite_max(c->values, c->n_rows * c->n_models);
    double step = nice_step(max, 5), axis_max = ceil(max / step) * step;
    if (axis_max <= 0)
        axis_max = step;
    double scale = (x1 - x0) / axis_max;

    open_svg(out, c->title, height);
    legend(out, c->models, c->n_models, 0, false);
    double bottom = top + plot_height;
    for (double v = 0; v <= axis_max + step / 2; v += step) { /* grid and tick labels */
        double x = x0 + v * scale;
        out_printf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, top, x, bottom,
                   x, bottom + 16);
        out_value(out, "%g", v);
        out_printf(out, "</text>\n");
    }
    out_printf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
               x0, top, x0, bottom);
    out_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (x0 + x1) / 2,
               bottom + 36);
    out_html(out, c->axis);
    out_printf(out, "</text>\n");
    for (size_t r = 0; r < c->n_rows; r++) {
        double y = top + (double)r * (group + GROUP_GAP) + GROUP_GAP / 2.0;
        out_printf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-weight=\"bold\">",
                   ROW_LABELS, y + group / 2.0 + 4);
        out_short_name(out, c->rows[r]);
        out_printf(out, "</text>\n");
        for (size_t m = 0; m < c->n_models; m++) {
            double value = c->values[r * c->n_models + m];
            double width = isfinite(value) && value > 0 ? value * scale : 0;
            double bar_y = y + (double)m * (BAR + BAR_GAP);
            out_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
                       "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">", x0, bar_y, width, BAR,
                       series_colour(m), x0 + width + 5, bar_y + BAR - 4);
            out_value(out, c->value_format, value);
            out_printf(out, " \xC2\xB7 "); /* a middle dot */
            out_short_name(out, c->models[m]);
            out_printf(out, "</text>\n");
        }
    }
    out_printf(out, "</svg>\n");
}

/*====== Line chart ======*/

enum { LINE_HEIGHT = 380, LINE_LEFT = 70, LINE_RIGHT = 230, LINE_BOTTOM = 60 };

static double x_position(const line_chart *c, double x, double min, double max, double x0,
                         double x1)
{
    if (c->log_x)
        return max > min ? x0 + (log(x) - log(min)) / (log(max) - log(min)) * (x1 - x0)
                         : (x0 + x1) / 2;
    return x0 + (x - min) / (max - min) * (x1 - x0);
}

/* The x axis: each distinct x of the data on a log axis (the vocabulary sizes), the
 * multiples of a round step on a linear one. */
static void x_ticks(output *out, const line_chart *c, double min, double max, double x0,
                    double x1, double bottom)
{
    size_t n = c->n_series * c->n_points;
    double step = nice_step(max - min, 10), first = ceil(min / step) * step;
    for (size_t i = 0; i < (c->log_x ? n : (size_t)((max - first) / step) + 1); i++) {
        double v = c->log_x ? c->x[i] : first + (double)i * step;
        bool seen = false;
        for (size_t j = 0; c->log_x && j < i; j++)
            seen |= c->x[j] == v;
        if (seen)
            continue;
        double x = x_position(c, v, min, max, x0, x1);
        out_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x, bottom,
                   x, bottom + 5, x, bottom + 18, v);
    }
}

/* Where each series' name goes at its last point: in the order of the points, pushed
 * apart so that no two overlap. label_y[s] is NaN for a series with no point. */
static void place_end_labels(double *label_y, size_t n)
{
    for (size_t pass = 0; pass < n; pass++)
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++) {
                if (a == b || !isfinite(label_y[a]) || !isfinite(label_y[b]) ||
                    label_y[a] > label_y[b] || (label_y[a] == label_y[b] && a > b))
                    continue;
                if (label_y[b] - label_y[a] < 14)
                    label_y[b] = label_y[a] + 14;
            }
}

void svg_line_chart(output *out, const line_chart *c)
{
    size_t n = c->n_series * c->n_points;
    double min_x = INFINITY, max_x = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        min_x = fmin(min_x, c->x[i]);
        max_x = fmax(max_x, c->x[i]);
    }
    if (!(max_x > min_x))
        max_x = min_x + 1;
    int top = LEGEND_Y + legend_height(c->n_series) + 10;
    double x0 = LINE_LEFT, x1 = CHART_WIDTH - LINE_RIGHT, bottom = LINE_HEIGHT - LINE_BOTTOM;
    double max_y = finite_max(c->y, n), step = nice_step(max_y, 5);
    double axis_max = fmax(ceil(max_y / step) * step, step);
    double scale = (bottom - top) / axis_max;

    open_svg(out, c->title, LINE_HEIGHT);
    legend(out, c->series, c->n_series, c->series_colour_offset, true);
    for (double v = 0; v <= axis_max + step / 2; v += step) {
        double y = bottom - v * scale;
        out_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", x0, y, x1, y,
                   x0 - 6, y + 4, v);
    }
    out_printf(out, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#333\"/>\n", x0,
               (double)top, bottom, x1);
    x_ticks(out, c, min_x, max_x, x0, x1, bottom);
    out_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (x0 + x1) / 2,
               bottom + 40);
    out_html(out, c->x_axis);
    out_printf(out, "</text>\n<text transform=\"translate(16 %.1f) rotate(-90)\" "
               "text-anchor=\"middle\">", (top + bottom) / 2);
    out_html(out, c->y_axis);
    out_printf(out, "</text>\n");

    double *label_y = grow_or_die(NULL, c->n_series ? c->n_series : 1, sizeof *label_y);
    double *label_x = grow_or_die(NULL, c->n_series ? c->n_series : 1, sizeof *label_x);
    for (size_t s = 0; s < c->n_series; s++) {
        const char *colour = series_colour(c->series_colour_offset + s);
        label_y[s] = NAN;
        out_printf(out, "<path fill=\"none\" stroke-width=\"2\" stroke=\"%s\" d=\"", colour);
        char move = 'M';
        for (size_t i = 0; i < c->n_points; i++) {
            double y = c->y[s * c->n_points + i];
            if (!isfinite(y))
                continue;
            label_x[s] = x_position(c, c->x[s * c->n_points + i], min_x, max_x, x0, x1);
            label_y[s] = bottom - y * scale;
            out_printf(out, "%c%.1f %.1f", move, label_x[s], label_y[s]);
            move = 'L';
        }
        out_printf(out, "\"/>\n");
        for (size_t i = 0; i < c->n_points; i++) {
            double y = c->y[s * c->n_points + i];
            if (isfinite(y))
                marker(out, s,
                       x_position(c, c->x[s * c->n_points + i], min_x, max_x, x0, x1),
                       bottom - y * scale, colour);
        }
    }
    place_end_labels(label_y, c->n_series);
    for (size_t s = 0; s < c->n_series; s++) {
        if (!isfinite(label_y[s]))
            continue;
        out_printf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", label_x[s] + 9,
                   label_y[s] + 4, series_colour(c->series_colour_offset + s));
        out_short_name(out, c->series[s]);
        out_printf(out, "</text>\n");
    }
    free(label_y);
    free(label_x);
    out_printf(out, "</svg>\n");
}
