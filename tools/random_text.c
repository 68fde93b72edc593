/*
 * random_text.c -- bp-random-text: UTF-8 text of random code points, for stressing the
 * trainer (tools/train_scaling.sh).
 *
 *   bp-random-text BYTES [SEED]
 *
 * Writes at least BYTES bytes (at most 3 more: the last character is whole) of Unicode
 * scalar values drawn uniformly from U+0000..U+10FFFF without the surrogates, so most
 * characters take 4 bytes and almost every n-gram of 4 bytes or more is rare. The same
 * SEED (default 1) gives the same bytes on every platform: splitmix64, integers only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

#define N_SCALARS (0x110000 - 0x800) /* code points less the 2048 surrogates */

/* Encodes scalar value cp into out; returns the byte count. */
static size_t put_utf8(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t bytes, seed = 1;
    if (argc < 2 || argc > 3 || parse_u64(argv[1], &bytes) ||
        (argc == 3 && parse_u64(argv[2], &seed))) {
        fprintf(stderr, "Usage: bp-random-text BYTES [SEED]\n");
        return 2;
    }
    unsigned char buf[1 << 16];
    size_t len = 0;
    for (uint64_t written = 0; written < bytes;) {
        /* Multiply-shift maps 32 random bits onto the range with a bias below 2^-11. */
        uint32_t cp = (uint32_t)(((splitmix64(&seed) >> 32) * N_SCALARS) >> 32);
        if (cp >= 0xD800)
            cp += 0x800;
        size_t n = put_utf8(cp, buf + len);
        len += n;
        written += n;
        if (len + 4 > sizeof buf || written >= bytes) {
            if (fwrite(buf, 1, len, stdout) != len)
                break;
            len = 0;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("bp-random-text: write error");
        return 1;
    }
    return 0;
}
