/*
 * bp_report_vocab.c -- the vocabulary survey of `bp report`: piece lengths, what each piece
 * is made of (script or kind), its longest and its most frequent pieces.
 *
 * Scripts: utf8proc gives the general category of a code point but no script property, so
 * a letter's script is the Unicode block it lies in, from the table below (the main blocks
 * of each script, not every one): a letter elsewhere counts as "other script". Marks take
 * no side (they follow the letter they modify).
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "bp_report.h"

const char *const piece_kind_names[N_PIECE_KINDS] = {
    [KIND_NOT_UTF8] = "not whole UTF-8",
    [KIND_WHITESPACE] = "whitespace runs",
    [KIND_DIGITS] = "digits",
    [KIND_PUNCTUATION] = "punctuation, symbols",
    [KIND_LATIN] = "Latin",
    [KIND_GREEK] = "Greek",
    [KIND_CYRILLIC] = "Cyrillic",
    [KIND_ARMENIAN] = "Armenian",
    [KIND_HEBREW] = "Hebrew",
    [KIND_ARABIC] = "Arabic",
    [KIND_DEVANAGARI] = "Devanagari",
    [KIND_BENGALI] = "Bengali",
    [KIND_THAI] = "Thai",
    [KIND_GEORGIAN] = "Georgian",
    [KIND_HANGUL] = "Hangul",
    [KIND_HIRAGANA] = "Hiragana",
    [KIND_KATAKANA] = "Katakana",
    [KIND_HAN] = "Han",
    [KIND_OTHER_SCRIPT] = "other scripts",
    [KIND_MIXED_SCRIPTS] = "mixed scripts",
    [KIND_OTHER] = "other (controls, ...)",
};

static const struct script_block {
    utf8proc_int32_t first, last;
    enum piece_kind script;
} script_blocks[] = {
    {0x0041, 0x02AF, KIND_LATIN},      /* Basic Latin letters .. IPA Extensions */
    {0x0370, 0x03FF, KIND_GREEK},
    {0x0400, 0x052F, KIND_CYRILLIC},
    {0x0530, 0x058F, KIND_ARMENIAN},
    {0x0590, 0x05FF, KIND_HEBREW},
    {0x0600, 0x06FF, KIND_ARABIC},
    {0x0750, 0x077F, KIND_ARABIC},     /* Arabic Supplement */
    {0x08A0, 0x08FF, KIND_ARABIC},     /* Arabic Extended-A */
    {0x0900, 0x097F, KIND_DEVANAGARI},
    {0x0980, 0x09FF, KIND_BENGALI},
    {0x0E00, 0x0E7F, KIND_THAI},
    {0x10A0, 0x10FF, KIND_GEORGIAN},
    {0x1100, 0x11FF, KIND_HANGUL},     /* Hangul Jamo */
    {0x1C80, 0x1C8F, KIND_CYRILLIC},   /* Cyrillic Extended-C */
    {0x1C90, 0x1CBF, KIND_GEORGIAN},   /* Georgian Extended */
    {0x1D00, 0x1DBF, KIND_LATIN},      /* Phonetic Extensions */
    {0x1E00, 0x1EFF, KIND_LATIN},      /* Latin Extended Additional */
    {0x1F00, 0x1FFF, KIND_GREEK},      /* Greek Extended */
    {0x2C60, 0x2C7F, KIND_LATIN},      /* Latin Extended-C */
    {0x2DE0, 0x2DFF, KIND_CYRILLIC},   /* Cyrillic Extended-A */
    {0x2E80, 0x2FDF, KIND_HAN},        /* CJK and Kangxi radicals */
    {0x3005, 0x3007, KIND_HAN},        /* iteration mark, closing mark, ideographic zero */
    {0x3021, 0x3029, KIND_HAN},        /* Hangzhou numerals */
    {0x3038, 0x303B, KIND_HAN},
    {0x3040, 0x309F, KIND_HIRAGANA},
    {0x30A0, 0x30FF, KIND_KATAKANA},
    {0x3130, 0x318F, KIND_HANGUL},     /* Hangul Compatibility Jamo */
    {0x31F0, 0x31FF, KIND_KATAKANA},   /* Katakana Phonetic Extensions */
    {0x3400, 0x4DBF, KIND_HAN},        /* CJK Extension A */
    {0x4E00, 0x9FFF, KIND_HAN},        /* CJK Unified Ideographs */
    {0xA640, 0xA69F, KIND_CYRILLIC},   /* Cyrillic Extended-B */
    {0xA720, 0xA7FF, KIND_LATIN},      /* Latin Extended-D */
    {0xA8E0, 0xA8FF, KIND_DEVANAGARI}, /* Devanagari Extended */
    {0xA960, 0xA97F, KIND_HANGUL},     /* Hangul Jamo Extended-A */
    {0xAB30, 0xAB6F, KIND_LATIN},      /* Latin Extended-E */
    {0xAC00, 0xD7FF, KIND_HANGUL},     /* Hangul Syllables, Jamo Extended-B */
    {0xF900, 0xFAFF, KIND_HAN},        /* CJK Compatibility Ideographs */
    {0xFB1D, 0xFB4F, KIND_HEBREW},     /* Hebrew presentation forms */
    {0xFB50, 0xFDFF, KIND_ARABIC},     /* Arabic Presentation Forms-A */
    {0xFE70, 0xFEFF, KIND_ARABIC},     /* Arabic Presentation Forms-B */
    {0xFF21, 0xFF5A, KIND_LATIN},      /* fullwidth Latin */
    {0xFF66, 0xFF9F, KIND_KATAKANA},   /* halfwidth Katakana */
    {0xFFA0, 0xFFDC, KIND_HANGUL},     /* halfwidth Hangul */
    {0x20000, 0x3134F, KIND_HAN},      /* CJK Extensions B .. G, compatibility supplement */
};

static enum piece_kind letter_script(utf8proc_int32_t cp)
{
    for (size_t i = 0; i < sizeof script_blocks / sizeof script_blocks[0]; i++)
        if (cp >= script_blocks[i].first && cp <= script_blocks[i].last)
            return script_blocks[i].script;
    return KIND_OTHER_SCRIPT;
}

static bool is_whitespace(utf8proc_int32_t cp, utf8proc_category_t cat)
{
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || (cp >= '\t' && cp <= '\r');
}

static bool is_punctuation_or_symbol(utf8proc_category_t cat)
{
    return (cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO) ||
           (cat >= UTF8PROC_CATEGORY_SM && cat <= UTF8PROC_CATEGORY_SO);
}

enum piece_kind classify_piece(const unsigned char *bytes, size_t len)
{
    if (bp_utf8_valid_prefix(bytes, len) != len)
        return KIND_NOT_UTF8;
    enum piece_kind script = N_PIECE_KINDS; /* none seen yet */
    bool digits = false, punctuation = false, marks = false, other = false;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        i += (size_t)utf8proc_iterate(bytes + i, (utf8proc_ssize_t)(len - i), &cp);
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) {
            enum piece_kind s = letter_script(cp);
            script = script == N_PIECE_KINDS || script == s ? s : KIND_MIXED_SCRIPTS;
        } else if (cat == UTF8PROC_CATEGORY_ND) {
            digits = true;
        } else if (is_punctuation_or_symbol(cat)) {
            punctuation = true;
        } else if (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) {
            marks = true;
        } else if (!is_whitespace(cp, cat)) {
            other = true;
        }
    }
    if (script != N_PIECE_KINDS)
        return script;
    if (other)
        return KIND_OTHER;
    if (digits)
        return KIND_DIGITS;
    if (punctuation)
        return KIND_PUNCTUATION;
    return marks ? KIND_OTHER : KIND_WHITESPACE; /* marks with no letter to modify */
}

/* Whether piece a goes before piece b in the list of the longest (by_count false) or of
 * the most frequent pieces: larger first, then the lower id. */
static bool ranks_before(const bp_model *model, uint32_t a, uint32_t b, bool by_count)
{
    uint64_t key_a, key_b;
    if (by_count) {
        key_a = bp_model_piece_count(model, a);
        key_b = bp_model_piece_count(model, b);
    } else {
        size_t len_a, len_b;
        bp_model_piece(model, a, &len_a);
        bp_model_piece(model, b, &len_b);
        key_a = len_a;
        key_b = len_b;
    }
    return key_a != key_b ? key_a > key_b : a < b;
}

/* Puts `id` in its place in top[0..*n) (at most TOP_PIECES entries, best first). */
static void rank_piece(const bp_model *model, uint32_t id, bool by_count, uint32_t *top,
                       size_t *n)
{
    size_t at = *n;
    while (at > 0 && ranks_before(model, id, top[at - 1], by_count))
        at--;
    if (at >= TOP_PIECES)
        return;
    size_t kept = *n < TOP_PIECES ? *n : TOP_PIECES - 1;
    memmove(top + at + 1, top + at, (kept - at) * sizeof *top);
    top[at] = id;
    *n = kept + 1;
}

void survey_vocab(const bp_model *model, vocab_survey *out)
{
    *out = (vocab_survey){.by_length = NULL};
    size_t vocab = bp_model_vocab_size(model), cap = 0, n_longest = 0, n_frequent = 0;
    for (uint32_t id = BP_FIRST_PIECE_ID; id < vocab; id++) {
        size_t len;
        const unsigned char *bytes = bp_model_piece(model, id, &len);
        if (len > out->longest || out->by_length == NULL) {
            size_t old = cap;
            reserve_array(&out->by_length, &cap, len + 1, sizeof *out->by_length);
            memset(out->by_length + old, 0, (cap - old) * sizeof *out->by_length);
            out->longest = len > out->longest ? len : out->longest;
        }
        out->by_length[len]++;
        out->by_kind[classify_piece(bytes, len)]++;
        rank_piece(model, id, false, out->longest_ids, &n_longest);
        rank_piece(model, id, true, out->frequent_ids, &n_frequent);
        out->n_pieces++;
    }
    out->n_top = n_longest;
}

void free_survey(vocab_survey *survey)
{
    free(survey->by_length);
    survey->by_length = NULL;
}
