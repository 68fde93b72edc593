/*
 * text_input.c -- reading training corpora: a plain file is one text, handed out in pieces
 * of up to 1 MiB; a JSONL file gives one text per record (the string member `field` of
 * the JSON object on each line). Either may be zstd-compressed, recognised by the magic
 * number at its start (on standard input too) and decompressed while streaming, so no
 * input is ever held whole: a plain text holds one piece, JSONL one line at a time.
 *
 * JSONL rules: blank lines (spaces, tabs, CR) are skipped silently; a line that is not
 * valid UTF-8 (RFC 8259 requires it), not JSON (RFC 8259 as strictly as Python's
 * json.loads: a raw control character in a string is refused), not an object, or whose
 * member is missing or not a string is a bad record: BP_ERR_BAD_RECORD naming file and
 * line, or skipped and counted with BP_INPUT_SKIP_BAD_LINES. When a member name repeats,
 * the last one counts, as with Python's json.loads. cJSON ends its strings with a NUL and
 * keeps no length, so an escaped NUL (\u0000) in a record would silently cut its text
 * short; since the line is checked to be UTF-8 first, such escapes are turned into the
 * byte 0xFF (which UTF-8 never contains) before parsing, and back into NUL in the text.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zstd.h>

#include "bp_internal.h"

#define PIECE_SIZE ((size_t)1 << 20) /* plain text: bytes per piece; JSONL: bytes per read
                                      * (at most: a small file gets a block of its size) */
#define MIN_BLOCK 4096               /* the smallest block (see block_capacity) */
#define SNIFF_SIZE 64                /* the first read, to see whether the file is zstd */
#define NUL_STANDIN 0xFF             /* an escaped NUL while cJSON parses (see above) */

struct bp_text_input {
    int fd;
    bool owns_fd;          /* false for standard input */
    char *name;            /* for messages: the path, or "<stdin>" */
    bp_input_format format;
    char *field;
    unsigned flags;

    /* Bytes read from the file but not consumed yet (the first bytes, read to see if the
     * file is zstd; then zstd's input). */
    unsigned char *raw;
    size_t raw_len, raw_pos, raw_cap;
    bool raw_eof;
    uint64_t file_size;    /* of a regular file (also as stdin); 0: not known */
    ZSTD_DCtx *zstd;       /* NULL for a file that is not compressed */
    size_t frame_left;     /* zstd's last answer: 0 when no frame is open */
    bool zstd_holds_output; /* the decoder may have output it could not give yet */
    uint64_t stream_pos;   /* bytes of the (decompressed) stream handed out so far */
    bool done;             /* every text has been handed out */

    /* The current piece (plain) or the block being cut into lines (JSONL). */
    unsigned char *block;
    size_t block_len, block_pos, block_cap;

    /* JSONL */
    unsigned char *line;   /* a line that spans blocks */
    size_t line_len, line_cap;
    unsigned char *scratch; /* a line with its \u0000 escapes replaced */
    size_t scratch_cap;
    uint64_t line_no;
    uint64_t skipped;
    unsigned char *text;   /* the last record's text */
    size_t text_cap;
};

/*------ Errors ------*/

static bp_status fail_nomem(bp_error *err, const char *name)
{
    return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", name);
}

/* Makes *buf (of *cap bytes) hold at least `need` bytes, keeping its content. */
static bool reserve(unsigned char **buf, size_t *cap, size_t need)
{
    unsigned char *p = bp_grow(*buf, cap, need, 1);
    if (p)
        *buf = p;
    return p != NULL;
}

/*------ The byte stream: the file, decompressed if it is zstd ------*/

/* Reads more of the file into in->raw, whose unconsumed bytes move to the front first. */
static bp_status read_raw(bp_text_input *in, bp_error *err)
{
    memmove(in->raw, in->raw + in->raw_pos, in->raw_len - in->raw_pos);
    in->raw_len -= in->raw_pos;
    in->raw_pos = 0;
    for (;;) {
        ssize_t got = read(in->fd, in->raw + in->raw_len, in->raw_cap - in->raw_len);
        if (got > 0)
            in->raw_len += (size_t)got;
        else if (got == 0)
            in->raw_eof = true;
        else if (errno == EINTR)
            continue;
        else
            return bp_fail_errno(err, BP_ERR_IO, errno, "%s", in->name);
        return BP_OK;
    }
}

/* Reads until 4 bytes are there (pipes may deliver less) and sets up decompression when
 * they are a zstd magic number. */
static bp_status sniff_format(bp_text_input *in, bp_error *err)
{
    bp_status st = BP_OK;
    while (st == BP_OK && in->raw_len < 4 && !in->raw_eof)
        st = read_raw(in, err);
    if (st != BP_OK || !bp_is_zstd(in->raw, in->raw_len))
        return st;
    /* zstd's input goes through in->raw: now it needs the size zstd reads best. */
    if (!reserve(&in->raw, &in->raw_cap, ZSTD_DStreamInSize()) ||
        !(in->zstd = ZSTD_createDCtx()))
        return fail_nomem(err, in->name);
    bp_zstd_limit_window(in->zstd, in->file_size);
    return BP_OK;
}

/* The size of in->block: PIECE_SIZE, or less for a stream known to be smaller (a regular
 * file, or a zstd frame that records its size): that size and one byte more, so that the
 * first piece is short and so known to be the last, but not under MIN_BLOCK. A stream that
 * turns out longer (a second zstd frame, a file that grows) only comes in more pieces. */
static size_t block_capacity(const bp_text_input *in)
{
    uint64_t size = in->file_size ? in->file_size : UINT64_MAX; /* 0: not known */
    if (in->zstd) {
        unsigned long long frame = ZSTD_getFrameContentSize(in->raw, in->raw_len);
        size = frame == ZSTD_CONTENTSIZE_UNKNOWN || frame == ZSTD_CONTENTSIZE_ERROR
                   ? UINT64_MAX
                   : frame;
    }
    return size < MIN_BLOCK ? MIN_BLOCK : size < PIECE_SIZE ? (size_t)size + 1 : PIECE_SIZE;
}

/* Decompresses into dst[0..cap); *got is 0 only at the end of the stream. */
static bp_status read_zstd(bp_text_input *in, unsigned char *dst, size_t cap, size_t *got,
                           bp_error *err)
{
    ZSTD_outBuffer out = {dst, cap, 0};
    while (out.pos < out.size) {
        bool input_left = in->raw_pos < in->raw_len;
        if (!input_left && !in->raw_eof) {
            bp_status st = read_raw(in, err);
            if (st != BP_OK)
                return st;
            continue;
        }
        if (!input_left && !in->zstd_holds_output)
            break;
        ZSTD_inBuffer src = {in->raw, in->raw_len, in->raw_pos};
        size_t ret = ZSTD_decompressStream(in->zstd, &out, &src);
        if (ZSTD_isError(ret))
            return bp_zstd_fail(err, ret, in->name, in->stream_pos + out.pos, in->file_size);
        in->raw_pos = src.pos;
        in->frame_left = ret;
        /* A full output buffer may hide data the decoder holds back, unless the frame
         * is complete (ret == 0 means decoded and flushed). */
        in->zstd_holds_output = out.pos == out.size && ret != 0;
    }
    if (out.pos == 0 && in->frame_left != 0)
        return bp_fail(err, BP_ERR_TRUNCATED, in->stream_pos,
                       "%s: zstd data ends inside a frame (the file is truncated)", in->name);
    *got = out.pos;
    return BP_OK;
}

/* Reads up to `cap` bytes of the stream; *got is 0 only at its end. */
static bp_status read_stream(bp_text_input *in, unsigned char *dst, size_t cap, size_t *got,
                             bp_error *err)
{
    bp_status st;
    if (in->zstd) {
        st = read_zstd(in, dst, cap, got, err);
    } else if (in->raw_pos < in->raw_len) { /* the bytes read while sniffing */
        *got = in->raw_len - in->raw_pos < cap ? in->raw_len - in->raw_pos : cap;
        memcpy(dst, in->raw + in->raw_pos, *got);
        in->raw_pos += *got;
        st = BP_OK;
    } else {
        ssize_t n;
        do
            n = read(in->fd, dst, cap);
        while (n < 0 && errno == EINTR);
        *got = n > 0 ? (size_t)n : 0;
        st = n < 0 ? bp_fail_errno(err, BP_ERR_IO, errno, "%s", in->name) : BP_OK;
    }
    if (st == BP_OK)
        in->stream_pos += *got;
    return st;
}

/* Fills in->block with up to block_cap bytes; in->block_len is 0 only at the end. */
static bp_status fill_block(bp_text_input *in, bp_error *err)
{
    in->block_len = in->block_pos = 0;
    while (in->block_len < in->block_cap) {
        size_t got;
        bp_status st = read_stream(in, in->block + in->block_len,
                                   in->block_cap - in->block_len, &got, err);
        if (st != BP_OK)
            return st;
        if (got == 0)
            break;
        in->block_len += got;
        if (in->format == BP_INPUT_JSONL)
            break; /* lines are cut from whatever has arrived */
    }
    return BP_OK;
}

/*------ Plain text: the whole stream is one text ------*/

static bp_status next_plain_piece(bp_text_input *in, const unsigned char **data, size_t *len,
                                  int *end_of_text, bp_error *err)
{
    bp_status st = fill_block(in, err);
    if (st != BP_OK)
        return st;
    /* A short piece means the stream has ended; a full one may be followed by nothing,
     * and the text then ends with an empty piece. */
    in->done = in->block_len < in->block_cap;
    *data = in->block;
    *len = in->block_len;
    *end_of_text = in->done;
    return BP_OK;
}

/*------ JSONL: one record per line ------*/

/* The next line without its '\n' in *line / *len, and its stream offset in *offset; *line
 * is NULL at the end of the stream. The line lives in in->block or in->line. */
static bp_status next_line(bp_text_input *in, const unsigned char **line, size_t *len,
                           uint64_t *offset, bp_error *err)
{
    in->line_len = 0;
    *offset = in->stream_pos - (in->block_len - in->block_pos);
    for (;;) {
        if (in->block_pos == in->block_len) {
            bp_status st = fill_block(in, err);
            if (st != BP_OK)
                return st;
            if (in->block_len == 0) { /* the end: a last line may lack its '\n' */
                *line = in->line_len ? in->line : NULL;
                *len = in->line_len;
                return BP_OK;
            }
        }
        const unsigned char *start = in->block + in->block_pos;
        size_t avail = in->block_len - in->block_pos;
        const unsigned char *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t)(nl - start) : avail;
        in->block_pos += nl ? take + 1 : take;
        if (nl && in->line_len == 0) { /* the whole line is in the block: no copy */
            *line = start;
            *len = take;
            return BP_OK;
        }
        if (!reserve(&in->line, &in->line_cap, in->line_len + take + 1))
            return fail_nomem(err, in->name);
        memcpy(in->line + in->line_len, start, take);
        in->line_len += take;
        if (nl) {
            *line = in->line;
            *len = in->line_len;
            return BP_OK;
        }
    }
}

/* Length of the run of blanks (spaces, tabs, CRs) at s[0..n). */
static size_t blank_run(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    return i;
}

/* Whether s[i] starts the escape \u0000 inside a JSON string. `in_string` and `escaped`
 * carry the lexical state from byte to byte. */
static bool is_escaped_nul(const unsigned char *s, size_t n, size_t i, bool *in_string,
                           bool *escaped)
{
    if (*escaped) {
        *escaped = false;
        return false;
    }
    if (s[i] == '"') {
        *in_string = !*in_string;
    } else if (s[i] == '\\' && *in_string) {
        if (n - i >= 6 && memcmp(s + i, "\\u0000", 6) == 0)
            return true;
        *escaped = true;
    }
    return false;
}

/* Points *json at the line to parse: the line itself, or, when it holds a \u0000 escape,
 * a copy in in->scratch with each such escape replaced by NUL_STANDIN (*replaced). */
static bp_status stand_in_for_nuls(bp_text_input *in, const unsigned char *line, size_t n,
                                   const unsigned char **json, size_t *json_len,
                                   bool *replaced, bp_error *err)
{
    *json = line;
    *json_len = n;
    *replaced = false;
    bool in_string = false, escaped = false;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        bool nul = is_escaped_nul(line, n, i, &in_string, &escaped);
        if (nul && !*replaced) { /* the first one: copy what came before */
            if (!reserve(&in->scratch, &in->scratch_cap, n))
                return fail_nomem(err, in->name);
            memcpy(in->scratch, line, i);
            out = i;
            *replaced = true;
        }
        if (nul) {
            in->scratch[out++] = NUL_STANDIN;
            i += 5;
        } else if (*replaced) {
            in->scratch[out++] = line[i];
        }
    }
    if (*replaced) {
        *json = in->scratch;
        *json_len = out;
    }
    return BP_OK;
}

/* The last member named in->field of a JSON object, as Python's json.loads keeps it. */
static const cJSON *find_member(const cJSON *object, const char *name)
{
    const cJSON *found = NULL, *item;
    cJSON_ArrayForEach(item, object)
        if (item->string && strcmp(item->string, name) == 0)
            found = item;
    return found;
}

/* Copies the member's string to in->text, NUL_STANDIN back to NUL. */
static bp_status keep_text(bp_text_input *in, const char *s, bool replaced, size_t *len,
                           bp_error *err)
{
    size_t n = strlen(s);
    if (!reserve(&in->text, &in->text_cap, n + 1))
        return fail_nomem(err, in->name);
    memcpy(in->text, s, n);
    if (replaced)
        for (size_t i = 0; i < n; i++)
            if (in->text[i] == NUL_STANDIN)
                in->text[i] = 0;
    *len = n;
    return BP_OK;
}

static bp_status bad_record(bp_text_input *in, uint64_t offset, bp_error *err, const char *what)
{
    return bp_fail(err, BP_ERR_BAD_RECORD, offset, "%s:%llu: %s", in->name,
                   (unsigned long long)in->line_no, what);
}

/* Parses one line; its text goes to in->text / *len. */
static bp_status parse_record(bp_text_input *in, const unsigned char *line, size_t n,
                              uint64_t offset, size_t *len, bp_error *err)
{
    char what[300];
    size_t valid = bp_utf8_valid_prefix(line, n);
    if (valid < n) {
        snprintf(what, sizeof what, "not valid UTF-8 (byte 0x%02x at column %zu)", line[valid],
                 valid + 1);
        return bad_record(in, offset, err, what);
    }
    /* The scanner first: it follows RFC 8259 as Python's json.loads does (cJSON would
     * accept a raw control character in a string, and a raw NUL would end the text
     * early), says what is wrong and where, and accepts exactly what cJSON parses, so
     * that cJSON can then fail only for lack of memory. */
    bp_json_scan js;
    if (!bp_json_scan_text(&js, line, n, SIZE_MAX)) {
        snprintf(what, sizeof what, "not valid JSON (at column %zu: %s)", js.problem_pos + 1,
                 js.problem);
        return bad_record(in, offset, err, what);
    }
    const unsigned char *json;
    bool replaced;
    bp_status st = stand_in_for_nuls(in, line, n, &json, &n, &replaced, err);
    if (st != BP_OK)
        return st;
    cJSON *root = bp_cjson_parse(json, n);
    if (!root) {
        st = fail_nomem(err, in->name);
    } else if (!cJSON_IsObject(root)) {
        st = bad_record(in, offset, err, "not a JSON object");
    } else {
        const cJSON *member = find_member(root, in->field);
        snprintf(what, sizeof what, member ? "member \"%.200s\" is not a string"
                                           : "no member \"%.200s\"", in->field);
        st = cJSON_IsString(member) ? keep_text(in, member->valuestring, replaced, len, err)
                                    : bad_record(in, offset, err, what);
    }
    cJSON_Delete(root);
    return st;
}

static bp_status next_record(bp_text_input *in, const unsigned char **data, size_t *len,
                             int *end_of_text, bp_error *err)
{
    for (;;) {
        const unsigned char *line = NULL;
        size_t n = 0;
        uint64_t offset;
        bp_status st = next_line(in, &line, &n, &offset, err);
        if (st != BP_OK)
            return st;
        if (!line) {
            in->done = true;
            return BP_OK;
        }
        in->line_no++;
        if (blank_run(line, n) == n)
            continue;
        st = parse_record(in, line, n, offset, len, err);
        if (st == BP_ERR_BAD_RECORD && (in->flags & BP_INPUT_SKIP_BAD_LINES)) {
            in->skipped++;
            continue;
        }
        if (st == BP_OK) {
            *data = in->text;
            *end_of_text = 1;
        }
        return st;
    }
}

/*------ Public API ------*/

static bp_status open_file(bp_text_input *in, const char *path, bp_error *err)
{
    if (strcmp(path, "-") == 0) {
        in->fd = STDIN_FILENO;
        struct stat sb;
        if (fstat(in->fd, &sb) == 0 && S_ISREG(sb.st_mode))
            in->file_size = (uint64_t)sb.st_size;
        return BP_OK;
    }
    size_t size = 0;
    bp_status st = bp_open_for_reading(path, &in->fd, &size, err);
    in->file_size = size;
    in->owns_fd = st == BP_OK;
    return st;
}

bp_status bp_text_input_open(const char *path, bp_input_format format, const char *field,
                             unsigned flags, bp_text_input **out, bp_error *err)
{
    if (!out || !path || (format != BP_INPUT_PLAIN && format != BP_INPUT_JSONL))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_text_input_open: invalid call");
    *out = NULL;
    bp_text_input *in = calloc(1, sizeof *in);
    if (!in)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    in->fd = -1;
    in->format = format;
    in->flags = flags;
    in->name = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
    in->field = strdup(field ? field : "text");
    in->raw_cap = SNIFF_SIZE; /* enough to tell zstd from text; grown for zstd */
    in->raw = malloc(in->raw_cap);
    bp_status st = in->name && in->field && in->raw ? BP_OK : fail_nomem(err, path);
    if (st == BP_OK)
        st = open_file(in, path, err);
    if (st == BP_OK)
        st = sniff_format(in, err);
    if (st == BP_OK) {
        in->block_cap = block_capacity(in);
        if (!(in->block = malloc(in->block_cap)))
            st = fail_nomem(err, path);
    }
    if (st != BP_OK) {
        bp_text_input_close(in);
        return st;
    }
    *out = in;
    return BP_OK;
}

bp_status bp_text_input_next(bp_text_input *in, const unsigned char **data, size_t *len,
                             int *end_of_text, bp_error *err)
{
    if (!in || !data || !len || !end_of_text)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_text_input_next: invalid call");
    *data = NULL;
    *len = 0;
    *end_of_text = 0;
    if (in->done)
        return BP_OK;
    return in->format == BP_INPUT_PLAIN ? next_plain_piece(in, data, len, end_of_text, err)
                                        : next_record(in, data, len, end_of_text, err);
}

uint64_t bp_text_input_skipped(const bp_text_input *in)
{
    return in ? in->skipped : 0;
}

void bp_text_input_close(bp_text_input *in)
{
    if (!in)
        return;
    if (in->owns_fd)
        close(in->fd);
    ZSTD_freeDCtx(in->zstd);
    free(in->name);
    free(in->field);
    free(in->raw);
    free(in->block);
    free(in->line);
    free(in->scratch);
    free(in->text);
    free(in);
}
