/*
 * progress.c -- the one progress line of the bp commands: redrawn in place on standard
 * error, at most every PROGRESS_INTERVAL_MS, with the amount done, the total when known,
 * the rate and the time left.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"

const char *human_bytes(char *buf, size_t size, double bytes)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    while (bytes >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1000;
        u++;
    }
    snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

/* An amount: bytes, or a count of `unit`. */
static const char *amount_text(char *buf, size_t size, uint64_t amount, const char *unit)
{
    if (!unit)
        return human_bytes(buf, size, (double)amount);
    snprintf(buf, size, "%" PRIu64 " %s", amount, unit);
    return buf;
}

void progress_show(progress_line *p, const char *label, uint64_t done, uint64_t total,
                   const char *unit, const char *extra)
{
    double now = clock_seconds(CLOCK_MONOTONIC);
    if (p->label == NULL || strcmp(p->label, label) != 0 || done < p->last_done) {
        p->label = label; /* a new stage, or one that starts over: a new clock */
        p->start = now;
    } else if ((now - p->last_print) * 1000 < PROGRESS_INTERVAL_MS) {
        p->last_done = done;
        return;
    }
    p->last_print = now;
    p->last_done = done;
    double elapsed = now - p->start;
    double rate = elapsed >= 0.5 ? (double)done / elapsed : 0; /* none before it means much */
    bool known_total = total > 0 && done <= total;
    char amount[48], line[320];
    size_t n = (size_t)snprintf(line, sizeof line, "%.60s: %s", label,
                                amount_text(amount, sizeof amount, done, unit));
    if (known_total)
        n += (size_t)snprintf(line + n, sizeof line - n, " of %s (%.0f%%)",
                              amount_text(amount, sizeof amount, total, unit),
                              100.0 * (double)done / (double)total);
    if (extra && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, ", %s", extra);
    if (rate > 0 && !unit && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, ", %s/s",
                              human_bytes(amount, sizeof amount, rate));
    if (rate > 0 && known_total && n < sizeof line)
        snprintf(line + n, sizeof line - n, ", %.0f s left", (double)(total - done) / rate);
    fprintf(stderr, "\r\033[K%s: %s", program_name, line);
    fflush(stderr);
    p->open = true;
}

void progress_clear(progress_line *p)
{
    if (p->open)
        fputs("\r\033[K", stderr);
    p->open = false;
}
