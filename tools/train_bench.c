/*
 * train_bench.c -- bp-train-bench: how long training takes and how much memory it needs.
 *
 *   bp-train-bench [--runs N] [--threads N] [--order N] [--min-count N] [--vocab-size N]
 *                  [--jsonl] [--ref-seconds S --ref-rss-mb M] CORPUS
 *
 * Each run trains in a child process (fork), so that every run's peak RSS is its own
 * (wait4 reports it) and nothing is shared between runs. The corpus is read through the
 * library's own input path (plain or zstd, streamed), as `bp train` reads it. Prints the
 * median wall time, the median time of each stage, the median CPU time (user + system: on a
 * machine that other work keeps busy it varies far less than the wall time), the largest
 * peak RSS, and, when the
 * reference's figures are given, the speed-up and memory ratio next to them.
 */
#define _GNU_SOURCE /* wait4 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bytepiece.h"
#include "clock.h"

typedef struct run_result {
    double wall;
    double cpu; /* user + system seconds of the child */
    bp_train_stats stats;
    size_t vocab;
    long peak_kb;
} run_result;

typedef struct bench_args {
    unsigned runs;
    bp_train_options opts;
    size_t vocab;
    bp_input_format format;
    double ref_seconds, ref_rss_mb;
    const char *corpus;
} bench_args;


/* One training, in the child. Returns 0 and fills *r, or prints why and returns 1. */
static int train_once(const bench_args *a, run_result *r)
{
    double start = clock_seconds(CLOCK_MONOTONIC);
    bp_error err;
    bp_text_input *in = NULL;
    bp_trainer *t = NULL;
    bp_model *model = NULL;
    bp_status st = bp_text_input_open(a->corpus, a->format, NULL, 0, &in, &err);
    if (st == BP_OK)
        st = bp_trainer_create(&a->opts, &t, &err);
    if (st == BP_OK)
        st = bp_trainer_add_input(t, in, &err);
    if (st == BP_OK)
        st = bp_trainer_train(t, &a->vocab, 1, &model, &err);
    if (st == BP_OK) {
        r->wall = clock_seconds(CLOCK_MONOTONIC) - start;
        bp_trainer_stats(t, &r->stats);
        r->vocab = bp_model_vocab_size(model);
    } else {
        fprintf(stderr, "bp-train-bench: %s\n", err.message);
    }
    bp_model_free(model);
    bp_trainer_free(t);
    bp_text_input_close(in);
    return st != BP_OK;
}

/* Runs train_once in a child process; its result comes back through a pipe. */
static int run_in_child(const bench_args *a, run_result *r)
{
    int fd[2];
    if (pipe(fd) != 0)
        return 1;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        close(fd[0]);
        run_result mine = {0};
        int rc = train_once(a, &mine);
        if (rc == 0 && write(fd[1], &mine, sizeof mine) != (ssize_t)sizeof mine)
            rc = 1;
        _exit(rc);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], r, sizeof *r);
    close(fd[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        got != (ssize_t)sizeof *r)
        return 1;
    r->peak_kb = ru.ru_maxrss;
    r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    return 0;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of values[0..n) (sorts a copy). */
static double median(const double *values, unsigned n)
{
    double *v = malloc(n * sizeof *v);
    if (!v)
        return 0;
    memcpy(v, values, n * sizeof *v);
    qsort(v, n, sizeof *v, compare_doubles);
    double m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    free(v);
    return m;
}

static int usage(void)
{
    fprintf(stderr, "Usage: bp-train-bench [--runs N] [--threads N] [--order N] [--min-count N] "
                    "[--vocab-size N] [--jsonl] [--ref-seconds S --ref-rss-mb M] CORPUS\n");
    return 2;
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    static const struct option options[] = {
        {"runs", required_argument, NULL, 'r'},      {"threads", required_argument, NULL, 't'},
        {"order", required_argument, NULL, 'o'},     {"min-count", required_argument, NULL, 'c'},
        {"vocab-size", required_argument, NULL, 'v'}, {"jsonl", no_argument, NULL, 'j'},
        {"ref-seconds", required_argument, NULL, 's'}, {"ref-rss-mb", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0}};
    *a = (bench_args){.runs = 3, .vocab = 10000, .format = BP_INPUT_PLAIN};
    bp_train_options_init(&a->opts);
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        errno = 0;
        double v = optarg ? strtod(optarg, &end) : 0;
        if (optarg && (errno || end == optarg || *end || v < 0))
            return usage();
        switch (c) {
        case 'r': a->runs = v >= 1 ? (unsigned)v : 1; break;
        case 't': a->opts.threads = (unsigned)v; break;
        case 'o': a->opts.order = (unsigned)v; break;
        case 'c': a->opts.min_count = (uint64_t)v; break;
        case 'v': a->vocab = (size_t)v; break;
        case 'j': a->format = BP_INPUT_JSONL; break;
        case 's': a->ref_seconds = v; break;
        case 'm': a->ref_rss_mb = v; break;
        default: return usage();
        }
    }
    if (optind + 1 != argc)
        return usage();
    a->corpus = argv[optind];
    return 0;
}

enum { WALL, CPU, READING, COUNTING, SEGMENTING, PRUNING, N_FIGURES };

int main(int argc, char **argv)
{
    bench_args a;
    if (parse_args(argc, argv, &a))
        return 2;
    double *fig[N_FIGURES];
    for (int f = 0; f < N_FIGURES; f++)
        if (!(fig[f] = calloc(a.runs, sizeof *fig[f])))
            return 1;
    run_result r = {0};
    long peak_kb = 0;
    for (unsigned k = 0; k < a.runs; k++) {
        if (run_in_child(&a, &r))
            return 1;
        fig[WALL][k] = r.wall;
        fig[CPU][k] = r.cpu;
        fig[READING][k] = r.stats.seconds_reading;
        fig[COUNTING][k] = r.stats.seconds_counting;
        fig[SEGMENTING][k] = r.stats.seconds_segmenting;
        fig[PRUNING][k] = r.stats.seconds_pruning;
        if (r.peak_kb > peak_kb)
            peak_kb = r.peak_kb;
    }
    double wall = median(fig[WALL], a.runs), rss_mb = (double)peak_kb / 1024.0;
    printf("corpus      %s: %.1f MB normalized, %llu chunks\n", a.corpus,
           (double)r.stats.bytes / 1e6, (unsigned long long)r.stats.chunks);
    printf("options     order %u, min_count %llu, vocab %zu -> %zu ids, threads %u (0: all)\n",
           a.opts.order, (unsigned long long)a.opts.min_count, a.vocab, r.vocab, a.opts.threads);
    printf("stages      read %.2f s, n-grams %.2f s, segment %.2f s, prune %.2f s (medians)\n",
           median(fig[READING], a.runs), median(fig[COUNTING], a.runs),
           median(fig[SEGMENTING], a.runs), median(fig[PRUNING], a.runs));
    printf("cpu         %.2f s user + system (median)\n", median(fig[CPU], a.runs));
    printf("\n%-12s %10s %12s\n", "", "wall (s)", "peak RSS");
    printf("%-12s %10.2f %9.1f MB   (median of %u runs; largest RSS)\n", "libbytepiece", wall,
           rss_mb, a.runs);
    if (a.ref_seconds > 0 && a.ref_rss_mb > 0) {
        printf("%-12s %10.2f %9.1f MB\n", "reference", a.ref_seconds, a.ref_rss_mb);
        printf("%-12s %9.1fx %11.2fx   (speed-up; memory as a fraction)\n", "ratio",
               a.ref_seconds / wall, rss_mb / a.ref_rss_mb);
    }
    for (int f = 0; f < N_FIGURES; f++)
        free(fig[f]);
    return 0;
}
