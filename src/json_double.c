/*
 * json_double.c -- bp_json_double(): a double as a JSON number that reads back as the
 * same double both in a correct reader (strtod, Python, JavaScript, cJSON) and in the
 * one Hugging Face tokenizers uses: serde_json built without its float_roundtrip feature,
 * which is not correctly rounded. It gathers the digits, the decimal point dropped, into
 * a u64 (ignoring those that would overflow it), converts that to a double (one
 * rounding) and multiplies or divides it by the double nearest 10^|exponent| (another).
 * A 17-digit number is above 2^53, so the first rounding is real: about a third of the
 * scores of a model printed as usual (%.17g when %.15g does not read back) come back one
 * unit in the last place off, enough to turn near-ties the other way.
 *
 * So: the shortest of %.15g, %.16g, %.17g that both readers read back exactly; else a
 * significand that is itself a double (so the first rounding is exact) over a power of
 * ten, which reads back exactly in both when the quotient rounds to x: a few powers and
 * the doubles next to x * 10^k are tried. Some doubles have no form serde_json reads
 * exactly (0.2% of random scores, none of the 319,000 of the four models tests/cli_hf.sh
 * exports): they are written with %.17g, which correct readers read exactly and serde_json
 * reads as a neighbour.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

/* The double nearest 10^k, as the literal 1eK is (serde_json's table). */
static double power_of_ten(int k)
{
    char literal[16];
    snprintf(literal, sizeof literal, "1e%d", k);
    return strtod(literal, NULL);
}

/* What serde_json without float_roundtrip reads from the JSON number `s` (as
 * bp_json_double writes them: digits, an optional '.', an optional exponent).
 * @return false for what it reads another way (an exponent beyond its table). */
static bool serde_read(const char *s, double *out)
{
    bool negative = *s == '-';
    s += negative;
    uint64_t sig = 0;
    long exp10 = 0;
    bool fraction = false, overflowed = false;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            fraction = true;
            continue;
        }
        unsigned digit = (unsigned)(*s - '0');
        if (overflowed || sig > (UINT64_MAX - digit) / 10) {
            overflowed = true; /* serde_json ignores the digits past the overflow */
            exp10 += !fraction;
            continue;
        }
        sig = sig * 10 + digit;
        exp10 -= fraction;
    }
    if (*s)
        exp10 += strtol(s + 1, NULL, 10);
    if (exp10 < -308 || exp10 > 308)
        return false;
    double pow = power_of_ten((int)labs(exp10)), f = (double)sig;
    f = exp10 >= 0 ? f * pow : f / pow;
    *out = negative ? -f : f;
    return true;
}

static bool reads_back(const char *s, double x)
{
    double serde;
    return strtod(s, NULL) == x && serde_read(s, &serde) && serde == x;
}

size_t bp_json_double(double x, char out[BP_JSON_DOUBLE_SIZE])
{
    BP_ASSERT(isfinite(x));
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, BP_JSON_DOUBLE_SIZE, "%.*g", digits, x);
        if (reads_back(out, x))
            return strlen(out);
    }
    /* sig / 10^k with sig a double in [2^53, 2^64): every such sig is an integer */
    double a = fabs(x);
    int top = (int)floor(log10(a)) + 1; /* a < 10^top */
    for (int k = 19 - top; k >= 15 - top; k--) {
        double pow = power_of_ten(k < 0 ? -k : k);
        double guess = k >= 0 ? a * pow : a / pow;
        for (int step = -8; step <= 8; step++) {
            double sig = guess;
            for (int i = 0; i < abs(step); i++)
                sig = nextafter(sig, step < 0 ? 0 : INFINITY);
            if (sig < 0x1p53 || sig >= 0x1p64)
                continue;
            snprintf(out, BP_JSON_DOUBLE_SIZE, "%s%llue%d", x < 0 ? "-" : "",
                     (unsigned long long)sig, -k);
            if (reads_back(out, x))
                return strlen(out);
        }
    }
    /* none that serde_json reads exactly: correct readers still do */
    return (size_t)snprintf(out, BP_JSON_DOUBLE_SIZE, "%.17g", x);
}
