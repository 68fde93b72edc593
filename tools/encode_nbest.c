/*
 * encode_nbest.c -- `bp encode --nbest K`: the K best segmentations of each text
 * (bp_encode_nbest), one JSONL line per text:
 *   {"nbest":[{"ids":[...],"score":S},...]}
 * best first, S the log-probability printed with %.17g, so that it reads back to the same
 * double. It runs on one thread: the texts' lists are written in input order as they come.
 */
#include <stdio.h>
#include <string.h>

#include "bp_encode.h"

enum parse_result check_nbest_options(const encode_args *args)
{
    const char *what = NULL;
    if (args->fmt.binary || !args->fmt.write_text)
        what = "--nbest needs --output-format jsonl";
    else if (args->alpha >= 0 || args->glibc_rand)
        what = "--nbest lists the best segmentations; it excludes --alpha and --glibc-rand, "
               "which sample one";
    else if (args->fmt.offsets)
        what = "--nbest does not write --offsets";
    if (what == NULL)
        return PARSE_RUN;
    usage_error(what);
    return PARSE_USAGE;
}

typedef struct nbest_job {
    const encode_args *args;
    bp_encoder *enc;
    output *out;
} nbest_job;

static void write_nbest_line(output *out, const bp_nbest *nb)
{
    enum { MAX_SCORE_CHARS = 32 }; /* "%.17g" of a double: at most 24 */
    static const char head[] = "{\"nbest\":[";
    output_reserve(out, sizeof head);
    memcpy(out->data + out->len, head, sizeof head - 1);
    out->len += sizeof head - 1;
    for (size_t i = 0; i < nb->n; i++) {
        if (i > 0)
            output_byte(out, ',');
        output_byte(out, '{');
        write_json_array(out, "ids", nb->ids + nb->ids_begin[i], NULL,
                         nb->ids_begin[i + 1] - nb->ids_begin[i]);
        output_reserve(out, MAX_SCORE_CHARS + 10);
        out->len += (size_t)snprintf(out->data + out->len, MAX_SCORE_CHARS + 10,
                                     ",\"score\":%.17g}", nb->scores[i]);
    }
    output_byte(out, ']');
    output_byte(out, '}');
    output_byte(out, '\n');
}

static int nbest_text(void *ctx, const text_source *src, const unsigned char *text, size_t len)
{
    nbest_job *job = ctx;
    bp_encode_options opts = {0, job->args->flags, NULL};
    bp_nbest nb;
    bp_error err;
    bp_status st = bp_encode_nbest(job->enc, text, len, &opts, job->args->nbest, &nb, &err);
    if (st != BP_OK) {
        report_at(src, "%s", err.message);
        return 1;
    }
    write_nbest_line(job->out, &nb);
    bp_nbest_free(&nb);
    return job->out->write_errno != 0;
}

int encode_nbest(const encode_args *args, const bp_model *model, char **paths, int n_paths,
                 output *out)
{
    nbest_job job = {.args = args, .out = out};
    bp_error err;
    bp_status st = bp_encoder_create(model, &job.enc, &err);
    if (st != BP_OK)
        return exit_status(st, &err);
    int rc = args->fmt.jsonl_input
                 ? process_jsonl_inputs(paths, n_paths, args->fmt.field,
                                        args->fmt.input_flags, nbest_text, &job)
                 : process_inputs(paths, n_paths, args->whole, nbest_text, &job);
    bp_encoder_free(job.enc);
    return rc;
}
