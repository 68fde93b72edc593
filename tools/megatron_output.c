/*
 * megatron_output.c -- writes a Megatron-LM dataset, PREFIX.bin and PREFIX.idx, so that a
 * run killed at any point leaves no half-written file under either name (see megatron.h).
 * The library's own atomic writer (src/file_write.c) is not public, and writes one file
 * from a callback; a dataset is two files streamed while the corpus is encoded, whose
 * renames must come in a set order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "megatron.h"

uint8_t megatron_dtype_for(const bp_model *model)
{
    return bp_model_vocab_size(model) < MEGATRON_UINT16_BELOW ? MEGATRON_UINT16
                                                              : MEGATRON_INT32;
}

static char *join(const char *a, const char *b)
{
    size_t len = strlen(a) + strlen(b) + 1;
    char *s = grow_or_die(NULL, len, 1);
    snprintf(s, len, "%s%s", a, b);
    return s;
}

/* Creates "<path>.tmp.XXXXXX" beside `path`, with the mode a new file would get
 * (mkstemp's 0600 widened by the umask, which this single-threaded program may read).
 * @return the stream, or NULL after a message; *temp is the name (malloc'd) or NULL. */
static FILE *create_temp(const char *path, char **temp)
{
    *temp = join(path, ".tmp.XXXXXX");
    int fd = mkstemp(*temp);
    if (fd < 0) {
        report("cannot create %s: %s", *temp, strerror(errno));
        free(*temp);
        *temp = NULL;
        return NULL;
    }
    mode_t mask = umask(0);
    umask(mask);
    FILE *fp = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "wb") : NULL;
    if (fp == NULL) {
        report("cannot write %s: %s", *temp, strerror(errno));
        close(fd);
        unlink(*temp);
        free(*temp);
        *temp = NULL;
    }
    return fp;
}

int megatron_output_open(megatron_output *mo, const char *prefix, uint8_t code)
{
    *mo = (megatron_output){.prefix = prefix, .bin_path = join(prefix, ".bin"),
                            .idx_path = join(prefix, ".idx")};
    if (!megatron_index_init(&mo->index, code))
        report("%s", bp_strerror(BP_ERR_NOMEM));
    else if ((mo->bin = create_temp(mo->bin_path, &mo->bin_temp)) != NULL)
        return 0;
    megatron_output_finish(mo, 1);
    return 1;
}

/* Writes the index to its temporary file. @return 0, or 1 after a message. */
static int write_index(megatron_output *mo)
{
    if (mo->index.too_long) {
        report("a text has more than 2^31-1 tokens, more than a Megatron index holds");
        return 1;
    }
    FILE *fp = create_temp(mo->idx_path, &mo->idx_temp);
    if (fp == NULL)
        return 1;
    bool written = megatron_index_write(&mo->index, fp);
    int write_errno = errno;
    if (fclose(fp) != 0 && written) {
        written = false;
        write_errno = errno;
    }
    if (!written)
        report("cannot write %s: %s", mo->idx_temp, strerror(write_errno));
    return !written;
}

/* Renames `temp` to `path`; *temp is freed and cleared once the name is gone. */
static int rename_into_place(char **temp, const char *path)
{
    if (rename(*temp, path) != 0) {
        report("cannot rename %s to %s: %s", *temp, path, strerror(errno));
        return 1;
    }
    free(*temp);
    *temp = NULL;
    return 0;
}

static void remove_temp(char *temp)
{
    if (temp != NULL)
        unlink(temp);
    free(temp);
}

int megatron_output_finish(megatron_output *mo, int run_status)
{
    int rc = run_status != 0;
    if (rc == 0)
        rc = write_index(mo);
    if (rc == 0 && unlink(mo->idx_path) != 0 && errno != ENOENT) {
        report("cannot remove the old %s: %s", mo->idx_path, strerror(errno));
        rc = 1;
    }
    if (rc == 0)
        rc = rename_into_place(&mo->bin_temp, mo->bin_path);
    if (rc == 0)
        rc = rename_into_place(&mo->idx_temp, mo->idx_path);
    if (rc == 0)
        fprintf(stderr, "%s: wrote %s.bin and %s.idx: %" PRIu64 " documents, %" PRIu64
                " tokens (%s)\n", program_name, mo->prefix, mo->prefix,
                mo->index.n_doc_index - 1, mo->index.tokens,
                megatron_dtype_name(mo->index.dtype));
    remove_temp(mo->bin_temp);
    remove_temp(mo->idx_temp);
    free(mo->bin_path);
    free(mo->idx_path);
    megatron_index_free(&mo->index);
    return rc;
}
