/*
 * bench.c -- bp-bench, the encoding benchmark of libbytepiece.
 *
 *   bp-bench -m MODEL [--runs N] [--alpha A] [--threads N] [--no-normalize] [--whole]
 *            [--special] [--offsets] FILE
 *
 * Loads MODEL (timed: the median of N loads), then saves it in the native format to a
 * temporary file and times loading that (median of N), reads FILE (plain or
 * zstd-compressed) into memory and encodes it N times with one encoder,
 * deterministically and by sampling, alternately: each line with its '\n' is one text, as in
 * `bp encode`, or the whole file is one text with --whole. Only the encode loop is timed.
 * Prints the median throughput (MB = 10^6 bytes of input) by wall clock and by the
 * thread's CPU time (which other processes on a shared machine disturb less), the token
 * count, the bytes per token and the peak RSS of the process. With --threads N > 1, the
 * same texts also go through bp_encode_batch on 1 and on N threads, runs alternating (wall
 * clock), and the median ratio of the two shows how the batch API scales. Sampling seeds
 * text k with stream k of seed 42, so every run, and every build, draws the same tokens.
 * With --special, the model gets special tokens (SPECIAL_TOKENS) and the best segmentation
 * is timed with and without BP_ENCODE_SPECIAL, alternately: on text without them, what
 * the flag costs.
 * With --offsets the second mode is deterministic encoding that also gives the tokens'
 * offsets instead of sampling, and the ratio row shows what offsets cost.
 * Uses the public API only (bytepiece.h), like any other program would.
 */
#define _GNU_SOURCE /* getopt_long, which also lets options follow the file operand */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "bytepiece.h"
#include "clock.h"

#define SAMPLING_SEED 42

/* What --special adds: the usual chat-template tokens, with two different first bytes,
 * so that the search takes its general path (a table lookup per byte), not memchr. */
static const char *const SPECIAL_TOKENS[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>",
                                             "[INST]", "[/INST]"};
#define N_SPECIAL_TOKENS (sizeof SPECIAL_TOKENS / sizeof SPECIAL_TOKENS[0])

static const char help[] =
    "Usage: bp-bench -m MODEL [OPTION]... FILE\n"
    "Measure the encoding speed of MODEL on FILE (plain or zstd-compressed), held in\n"
    "memory. Each line with its '\\n' is one text, as in 'bp encode'. The file is encoded\n"
    "N times deterministically and N times by sampling; only encoding is timed.\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON (plain or zstd-compressed)\n"
    "                     or native\n"
    "      --runs N       runs per mode and loads per format, N >= 1 (default 5); the\n"
    "                     median is reported\n"
    "      --alpha A      alpha of the sampling runs, A >= 0 (default 0.1); text k draws\n"
    "                     from stream k of seed 42\n"
    "      --threads N    also encode with bp_encode_batch on 1 and on N threads\n"
    "                     (N >= 2) and print the speed-up\n"
    "      --no-normalize encode the raw bytes (no NFC)\n"
    "      --whole        the whole file is one text\n"
    "      --special      add special tokens (<|endoftext|>, <|im_start|>, <|im_end|>,\n"
    "                     [INST], [/INST]) and time the best segmentation with and\n"
    "                     without matching them (BP_ENCODE_SPECIAL), alternately\n"
    "      --offsets      time encoding with offsets against encoding without,\n"
    "                     instead of sampling against deterministic\n"
    "  -h, --help         show this help and exit\n"
    "\n"
    "MB/s counts 10^6 bytes of input per second of wall-clock time; MB/s(cpu) per\n"
    "second of the encoding thread's CPU time. Exit status: 0 success, 1 failure on\n"
    "data or I/O, 2 usage error.\n";

/*====== Messages ======*/

static _Noreturn void die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    fputs("bp-bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static _Noreturn void usage_hint(void)
{
    fputs("Try 'bp-bench --help' for more information.\n", stderr);
    exit(2);
}

static _Noreturn void usage_error(const char *what)
{
    fprintf(stderr, "bp-bench: %s\n", what);
    usage_hint();
}

static void *realloc_or_die(void *ptr, size_t count, size_t elem_size)
{
    if (count > SIZE_MAX / elem_size)
        die("input too large");
    void *p = realloc(ptr, count * elem_size);
    if (!p)
        die("out of memory");
    return p;
}

/*====== Options ======*/

typedef struct options {
    const char *model;
    const char *file;
    int runs;
    double alpha;
    unsigned flags; /* BP_ENCODE_* */
    bool whole;
    bool special;
    bool offsets;
    unsigned threads;
} options;

static options parse_options(int argc, char **argv)
{
    enum { OPT_RUNS = 256, OPT_ALPHA, OPT_NO_NORMALIZE, OPT_WHOLE, OPT_THREADS, OPT_SPECIAL,
           OPT_OFFSETS };
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"alpha", required_argument, NULL, OPT_ALPHA},
        {"no-normalize", no_argument, NULL, OPT_NO_NORMALIZE},
        {"whole", no_argument, NULL, OPT_WHOLE},
        {"offsets", no_argument, NULL, OPT_OFFSETS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"special", no_argument, NULL, OPT_SPECIAL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options o = {.runs = 5, .alpha = 0.1};
    int opt;
    char *end;
    while ((opt = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            o.model = optarg;
            break;
        case OPT_RUNS: {
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || n < 1 || n > 1000)
                usage_error("--runs needs a whole number from 1 to 1000");
            o.runs = (int)n;
            break;
        }
        case OPT_ALPHA:
            o.alpha = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !isfinite(o.alpha) || o.alpha < 0)
                usage_error("--alpha needs a finite number >= 0");
            break;
        case OPT_NO_NORMALIZE:
            o.flags |= BP_ENCODE_NO_NORMALIZE;
            break;
        case OPT_WHOLE:
            o.whole = true;
            break;
        case OPT_SPECIAL:
            o.special = true;
            break;
        case OPT_OFFSETS:
            o.offsets = true;
            break;
        case OPT_THREADS: {
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || n < 1 || n > 256)
                usage_error("--threads needs a whole number from 1 to 256");
            o.threads = (unsigned)n;
            break;
        }
        case 'h':
            fputs(help, stdout);
            exit(0);
        default: /* getopt_long has printed what is wrong */
            usage_hint();
        }
    }
    if (!o.model)
        usage_error("missing -m MODEL");
    if (optind != argc - 1)
        usage_error(optind == argc ? "missing FILE" : "only one FILE can be measured");
    o.file = argv[optind];
    return o;
}

/*====== Input ======*/

static bool is_zstd_frame(const unsigned char *data, size_t len)
{
    static const unsigned char magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    return len >= 4 && memcmp(data, magic, 4) == 0;
}

/* Decompresses every frame of a zstd stream into a new buffer, streaming, since frames
 * need not record their size. */
static unsigned char *zstd_decompress(const char *path, const unsigned char *in, size_t in_len,
                                      size_t *out_len)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        die("out of memory");
    size_t cap = in_len * 4, len = 0, ret;
    unsigned char *out = realloc_or_die(NULL, cap, 1);
    ZSTD_inBuffer src = {in, in_len, 0};
    for (;;) {
        if (len == cap)
            out = realloc_or_die(out, cap *= 2, 1);
        ZSTD_outBuffer dst = {out, cap, len};
        ret = ZSTD_decompressStream(ds, &dst, &src);
        if (ZSTD_isError(ret))
            die("%s: %s", path, ZSTD_getErrorName(ret));
        len = dst.pos;
        /* With all input read and room left, the decoder has flushed all it can. */
        if (src.pos == src.size && len < cap)
            break;
    }
    ZSTD_freeDStream(ds);
    if (ret != 0)
        die("%s: the zstd stream ends in the middle of a frame", path);
    *out_len = len;
    return out;
}

/* The whole content of `path`, decompressed when it is zstd. */
static unsigned char *read_input(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0, got;
    unsigned char *data = realloc_or_die(NULL, cap, 1);
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            data = realloc_or_die(data, cap *= 2, 1);
    }
    if (ferror(f))
        die("cannot read %s: %s", path, strerror(errno));
    fclose(f);
    if (is_zstd_frame(data, n)) {
        unsigned char *plain = zstd_decompress(path, data, n, len);
        free(data);
        return plain;
    }
    *len = n;
    return data;
}

/* The texts to encode: text k is data[off[k] .. off[k + 1]). */
typedef struct texts {
    const unsigned char *data;
    size_t *off;
    size_t n;
    size_t longest;
} texts;

static texts split_texts(const unsigned char *data, size_t len, bool whole)
{
    texts t = {.data = data};
    size_t cap = 1024;
    t.off = realloc_or_die(NULL, cap, sizeof *t.off);
    t.off[0] = 0;
    size_t pos = 0;
    while (pos < len) {
        const unsigned char *nl = whole ? NULL : memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) + 1 : len;
        if (t.n + 2 > cap)
            t.off = realloc_or_die(t.off, cap *= 2, sizeof *t.off);
        t.off[++t.n] = end;
        if (end - pos > t.longest)
            t.longest = end - pos;
        pos = end;
    }
    return t;
}

/*====== Encoding ======*/

typedef struct id_buffer {
    uint32_t *ids;
    size_t cap;
    bool want_offsets;
    size_t *offsets; /* with want_offsets: as many as ids */
} id_buffer;

/* Encodes one text and returns its token count (bp_encode_append grows `buf` when a text
 * needs more room than any before: rare, most texts have fewer tokens than bytes). */
static size_t encode_text(bp_encoder *enc, const unsigned char *text, size_t len,
                          const bp_encode_options *opts, id_buffer *buf)
{
    size_t n = 0;
    bp_error err;
    if (bp_encode_append(enc, text, len, opts, &buf->ids,
                         buf->want_offsets ? &buf->offsets : NULL, &buf->cap, &n, &err) != BP_OK)
        die("encoding failed: %s", err.message);
    return n;
}

static double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

typedef struct run {
    double seconds;     /* wall clock */
    double cpu_seconds; /* CPU time of the encoding thread */
    size_t tokens;
} run;

/* One timed pass over all texts; alpha < 0 is deterministic. */
static run encode_all(bp_encoder *enc, const texts *t, double alpha, unsigned flags,
                      id_buffer *buf)
{
    bp_rng rng;
    bp_encode_options opts = {.alpha = alpha, .flags = flags | (alpha >= 0 ? BP_ENCODE_SAMPLE : 0),
                              .rng = alpha >= 0 ? &rng : NULL};
    size_t tokens = 0;
    double start = now_seconds(), cpu_start = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    for (size_t k = 0; k < t->n; k++) {
        if (opts.rng)
            bp_rng_seed(&rng, SAMPLING_SEED, k);
        tokens += encode_text(enc, t->data + t->off[k], t->off[k + 1] - t->off[k], &opts, buf);
    }
    return (run){now_seconds() - start, clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start,
                 tokens};
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The runs of one mode. */
typedef struct mode_runs {
    double *mbps, *cpu_mbps;
    size_t tokens;
} mode_runs;

static void print_row(const char *label, mode_runs *m, int runs, size_t total_bytes)
{
    printf("%-26s %10.2f %10.2f %12zu %12.3f\n", label, median(m->mbps, runs),
           median(m->cpu_mbps, runs), m->tokens, (double)total_bytes / (double)m->tokens);
}

/* One way to encode: a row of the table. */
typedef struct mode {
    const char *label;
    double alpha; /* < 0: the best segmentation */
    unsigned flags;
    bool offsets; /* ask for the tokens' offsets too */
} mode;

/* Runs the two modes `runs` times each, alternately (so that a machine whose load changes
 * weighs on both alike), and prints their rows and the median of the per-round ratio of
 * the second one's speed to the first's (CPU time). */
static void measure_pair(bp_encoder *enc, const texts *t, size_t total_bytes, int runs,
                         const mode modes[2], const char *ratio_label, id_buffer *buf)
{
    mode_runs m[2];
    for (int k = 0; k < 2; k++) {
        m[k].mbps = realloc_or_die(NULL, (size_t)runs, sizeof *m[k].mbps);
        m[k].cpu_mbps = realloc_or_die(NULL, (size_t)runs, sizeof *m[k].cpu_mbps);
    }
    double *ratio = realloc_or_die(NULL, (size_t)runs, sizeof *ratio);
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < 2; k++) {
            buf->want_offsets = modes[k].offsets;
            run res = encode_all(enc, t, modes[k].alpha, modes[k].flags, buf);
            m[k].mbps[r] = (double)total_bytes / 1e6 / res.seconds;
            m[k].cpu_mbps[r] = (double)total_bytes / 1e6 / res.cpu_seconds;
            m[k].tokens = res.tokens;
        }
        ratio[r] = m[1].cpu_mbps[r] / m[0].cpu_mbps[r];
    }
    for (int k = 0; k < 2; k++)
        print_row(modes[k].label, &m[k], runs, total_bytes);
    printf("%-26s %10.2f\n", ratio_label, median(ratio, runs));
    for (int k = 0; k < 2; k++) {
        free(m[k].mbps);
        free(m[k].cpu_mbps);
    }
    free(ratio);
}

/* Deterministic and sampling encoding (with --offsets: deterministic with offsets). */
static void measure(bp_encoder *enc, const texts *t, size_t total_bytes, const options *o,
                    id_buffer *buf)
{
    char sampling_label[64];
    snprintf(sampling_label, sizeof sampling_label, "sampling alpha=%g", o->alpha);
    const mode sampling[2] = {{"deterministic", -1.0, o->flags, false},
                              {sampling_label, o->alpha, o->flags, false}};
    const mode offsets[2] = {{"deterministic", -1.0, o->flags, false},
                             {"with offsets", -1.0, o->flags, true}};
    measure_pair(enc, t, total_bytes, o->runs, o->offsets ? offsets : sampling,
                 o->offsets ? "offsets/determ." : "sampling/determ.", buf);
}

/* The best segmentation with and without BP_ENCODE_SPECIAL, on `model` with the special
 * tokens added. */
static void measure_special(const bp_model *model, const texts *t, size_t total_bytes,
                            const options *o, id_buffer *buf)
{
    size_t lens[N_SPECIAL_TOKENS];
    for (size_t i = 0; i < N_SPECIAL_TOKENS; i++)
        lens[i] = strlen(SPECIAL_TOKENS[i]);
    bp_model *with_tokens;
    bp_encoder *enc;
    bp_error err;
    if (bp_model_add_special(model, SPECIAL_TOKENS, lens, N_SPECIAL_TOKENS, &with_tokens,
                             &err) != BP_OK)
        die("adding special tokens: %s", err.message);
    if (bp_encoder_create(with_tokens, &enc, NULL) != BP_OK)
        die("out of memory");
    printf("\nspecial tokens: %zu (<|endoftext|> ... [/INST])\n", N_SPECIAL_TOKENS);
    const mode modes[2] = {{"deterministic", -1.0, o->flags, false},
                           {"determ. BP_ENCODE_SPECIAL", -1.0, o->flags | BP_ENCODE_SPECIAL, false}};
    measure_pair(enc, t, total_bytes, o->runs, modes, "special/plain", buf);
    bp_encoder_free(enc);
    bp_model_free(with_tokens);
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* bp_encode_batch over all texts on one thread and on o->threads, runs alternating; prints
 * a row for each (median of runs) and the median ratio of the two. */
static void measure_batch(const texts *t, size_t total_bytes, const options *o, double alpha,
                          const bp_model *model)
{
    const void **ptrs = realloc_or_die(NULL, t->n ? t->n : 1, sizeof *ptrs);
    size_t *lens = realloc_or_die(NULL, t->n ? t->n : 1, sizeof *lens);
    for (size_t k = 0; k < t->n; k++) {
        ptrs[k] = t->data + t->off[k];
        lens[k] = t->off[k + 1] - t->off[k];
    }
    const unsigned threads[2] = {1, o->threads};
    double *mbps[2], *ratio = realloc_or_die(NULL, (size_t)o->runs, sizeof *ratio);
    size_t tokens = 0;
    for (int k = 0; k < 2; k++)
        mbps[k] = realloc_or_die(NULL, (size_t)o->runs, sizeof *mbps[k]);
    for (int r = 0; r < o->runs; r++) {
        for (int k = 0; k < 2; k++) {
            bp_batch_options bo = {alpha, o->flags | (alpha >= 0 ? BP_ENCODE_SAMPLE : 0), SAMPLING_SEED,
                                   0, threads[k]};
            bp_batch b;
            double start = now_seconds();
            bp_status st = bp_encode_batch(model, ptrs, lens, t->n, &bo, &b, NULL);
            double seconds = now_seconds() - start;
            if (st != BP_OK)
                die("batch encoding failed: %s", bp_strerror(st));
            mbps[k][r] = (double)total_bytes / 1e6 / seconds;
            tokens = b.ids_begin[b.n_texts];
            bp_batch_free(&b);
        }
        ratio[r] = mbps[1][r] / mbps[0][r];
    }
    for (int k = 0; k < 2; k++) {
        char label[64];
        snprintf(label, sizeof label, "%s, batch, %u thread%s",
                 alpha < 0 ? "determ." : "sampling", threads[k], threads[k] > 1 ? "s" : "");
        printf("%-26s %10.2f %10s %12zu %12.3f\n", label, median(mbps[k], o->runs), "-", tokens,
               (double)total_bytes / (double)tokens);
        free(mbps[k]);
    }
    char label[64];
    snprintf(label, sizeof label, "batch, %u threads / 1", o->threads);
    printf("%-26s %10.2f\n", label, median(ratio, o->runs));
    free(ratio);
    free(ptrs);
    free(lens);
}

/* Loads `path` `runs` times; returns the model of the last load and the median time. */
static bp_model *timed_load(const char *path, int runs, double *median_ms)
{
    double *ms = realloc_or_die(NULL, (size_t)runs, sizeof *ms);
    bp_model *model = NULL;
    for (int r = 0; r < runs; r++) {
        bp_model_free(model);
        bp_error err;
        double start = now_seconds();
        if (bp_model_load(path, &model, &err) != BP_OK)
            die("%s", err.message);
        ms[r] = (now_seconds() - start) * 1e3;
    }
    *median_ms = median(ms, runs);
    free(ms);
    return model;
}

/* Saves the model natively to a temporary file and times loading it back. */
static void time_native_load(const bp_model *model, int runs)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/bp-bench-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        die("cannot create a temporary file in %s: %s", dir && *dir ? dir : "/tmp",
            strerror(errno));
    close(fd);
    bp_error err;
    if (bp_model_save_native(model, path, &err) != BP_OK) {
        unlink(path);
        die("%s", err.message);
    }
    double ms;
    bp_model_free(timed_load(path, runs, &ms));
    FILE *f = fopen(path, "rb");
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (f)
        fclose(f);
    unlink(path);
    printf("load    native (bp convert): %.1f ms (%.1f MB file)\n", ms, (double)size / 1e6);
}

int main(int argc, char **argv)
{
    options o = parse_options(argc, argv);

    /* The input first: a wrong FILE fails before the model's load time is spent. */
    size_t len;
    unsigned char *data = read_input(o.file, &len);
    if (len == 0)
        die("%s: nothing to encode (empty input)", o.file);
    texts t = split_texts(data, len, o.whole);

    double load_ms;
    bp_model *model = timed_load(o.model, o.runs, &load_ms);
    printf("model   %s: %zu ids\n", base_name(o.model), bp_model_vocab_size(model));
    printf("load    %s: %.1f ms (median of %d)\n", base_name(o.model), load_ms, o.runs);
    time_native_load(model, o.runs);

    bp_encoder *enc;
    if (bp_encoder_create(model, &enc, NULL) != BP_OK)
        die("out of memory");
    /* Room for one token per byte plus <bos>/<eos>; encode_text grows it if NFC lengthens
     * a text beyond that. */
    id_buffer buf = {realloc_or_die(NULL, t.longest + 2, sizeof *buf.ids), t.longest + 2,
                     false, NULL};

    printf("input   %s: %zu bytes, %zu %s, %s\n", base_name(o.file), len, t.n,
           o.whole ? "text (whole file)" : "texts (lines)",
           o.flags & BP_ENCODE_NO_NORMALIZE ? "no normalization" : "NFC");
    printf("runs    %d per mode, median shown\n\n", o.runs);
    printf("%-26s %10s %10s %12s %12s\n", "mode", "MB/s", "MB/s(cpu)", "tokens", "bytes/token");

    measure(enc, &t, len, &o, &buf);
    if (o.special)
        measure_special(model, &t, len, &o, &buf);
    if (o.threads > 1) {
        measure_batch(&t, len, &o, -1.0, model);
        measure_batch(&t, len, &o, o.alpha, model);
    }
    printf("\npeak RSS %.1f MiB\n", peak_rss_mib());

    free(buf.ids);
    free(buf.offsets);
    bp_encoder_free(enc);
    free(t.off);
    free(data);
    bp_model_free(model);
    return 0;
}
