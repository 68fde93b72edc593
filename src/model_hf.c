/*
 * model_hf.c -- bp_model_export_huggingface(): a model as a Hugging Face tokenizer.json
 * that the tokenizers library (the Rust core under every transformers "fast" tokenizer)
 * loads as it is and that encodes as bp_encode() does (deterministic, NFC).
 *
 * Why it gives the same ids, stage by stage of the Hugging Face pipeline:
 *   normalizer     NFC, as bp's default encode.
 *   pre-tokenizer  1. Split on the regex \n+ with behavior MergedWithPrevious: a run of
 *                     newlines stays with the text before it, which is exactly the
 *                     reference's chunking (algorithms §2: a run of other bytes plus the
 *                     newlines after it; a text that starts with newlines starts with a
 *                     chunk of newlines only). No token crosses a chunk boundary in either.
 *                  2. ByteLevel without its regex: each byte of a chunk becomes one
 *                     printable character (the byte-to-character table below), so a
 *                     character position is a byte position.
 *   model          Unigram over those characters: piece i is its bytes written with the
 *                  same table, with its score (log(count) - log(total), a double printed
 *                  so that Hugging Face reads it back exactly: json_double.c). Its Viterbi adds the same two doubles
 *                  as bp's (the best score up to the start, plus the piece's) and keeps a
 *                  candidate only when it is strictly better, trying starts in increasing
 *                  order, so at equal scores it too keeps the longest last piece
 *                  (algorithms §4.3). All 256 bytes are pieces, so no unknown token
 *                  (unk_id null) and no byte fallback is needed.
 *   decoder        ByteLevel: characters back to bytes.
 * Ids 0, 1, 2 are "<pad>", "<bos>", "<eos>", and the model's special tokens
 * (bp_model_add_special()) their own text, listed in the Unigram vocabulary (which holds
 * every id in order) and declared as added tokens marked special, so that padding
 * and add_special_tokens can name them. Hugging Face takes a special token's text out of
 * the input before the model sees it; should it be told not to (split_special_tokens),
 * their score, far below any segmentation of their few bytes, keeps the Unigram from
 * choosing them. There is no post-processor: encoding adds no <bos>/<eos>, as bp encode
 * without --bos/--eos.
 * The JSON is built and printed with cJSON (its strings are escaped as JSON needs); the
 * scores go in as raw numbers written by bp_json_double(), as cJSON's own printing (%.17g)
 * reads back one unit off in Hugging Face for about a third of them.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bp_internal.h"

/* Below the score of any segmentation of a special token's text into pieces (each piece
 * scores above -BP_MAX_ABS_SCORE) for texts of up to 20,000 bytes. */
#define HF_SPECIAL_SCORE (-1e6)

/*------ The byte-level alphabet ------*/

/* The code point that Hugging Face's (GPT-2's) byte-level alphabet gives each byte: the
 * printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF are their own Latin-1 character;
 * the 68 others, in increasing order, take U+0100, U+0101, ... */
static void byte_level_alphabet(uint32_t cp[256])
{
    uint32_t next = 0x100;
    for (unsigned b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        cp[b] = printable ? b : next++;
    }
}

/* Writes bytes[0..len) as byte-level characters, UTF-8 (each code point is below U+0800:
 * at most two bytes), NUL-terminated, into `out` (room for 2 * len + 1). */
static void byte_level_text(const uint32_t cp[256], const unsigned char *bytes, size_t len,
                            char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t c = cp[bytes[i]];
        if (c < 0x80) {
            out[n++] = (char)c;
        } else {
            out[n++] = (char)(0xC0 | c >> 6);
            out[n++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[n] = '\0';
}

/*------ The parts of tokenizer.json ------*/

/* Every node is attached to its parent as soon as it is made, so that deleting the root
 * frees everything; a helper returns NULL (or false) when out of memory. */

/* Appends `item` to `array`, or deletes it. @return item, NULL when it could not be. */
static cJSON *append(cJSON *array, cJSON *item)
{
    if (item && cJSON_AddItemToArray(array, item))
        return item;
    cJSON_Delete(item);
    return NULL;
}

/* Adds an object to `parent`: under `name` in an object, appended to an array when `name`
 * is NULL; with the member "type": TYPE unless `type` is NULL. @return the new object. */
static cJSON *add_typed(cJSON *parent, const char *name, const char *type)
{
    cJSON *o = name ? cJSON_AddObjectToObject(parent, name) : append(parent, cJSON_CreateObject());
    return o && type && !cJSON_AddStringToObject(o, "type", type) ? NULL : o;
}

static bool add_bool(cJSON *o, const char *name, bool value)
{
    return cJSON_AddBoolToObject(o, name, value) != NULL;
}

/* ByteLevel, as a pre-tokenizer or as the decoder: one character per byte, no regex
 * split, no prefix space. */
static bool add_byte_level(cJSON *parent, const char *name)
{
    cJSON *o = add_typed(parent, name, "ByteLevel");
    return o && add_bool(o, "add_prefix_space", false) && add_bool(o, "trim_offsets", false)
        && add_bool(o, "use_regex", false);
}

/* The chunking split, then ByteLevel. */
static bool add_pre_tokenizer(cJSON *root)
{
    cJSON *seq = add_typed(root, "pre_tokenizer", "Sequence");
    cJSON *list = seq ? cJSON_AddArrayToObject(seq, "pretokenizers") : NULL;
    cJSON *split = list ? add_typed(list, NULL, "Split") : NULL;
    cJSON *pattern = split ? cJSON_AddObjectToObject(split, "pattern") : NULL;
    return pattern && cJSON_AddStringToObject(pattern, "Regex", "\\n+")
        && cJSON_AddStringToObject(split, "behavior", "MergedWithPrevious")
        && add_bool(split, "invert", false) && add_byte_level(list, NULL);
}

/* One added token, special: Hugging Face matches its text as it is, nowhere stripped. */
static bool add_special_token(cJSON *added, uint32_t id, const char *content)
{
    cJSON *o = add_typed(added, NULL, NULL);
    return o && cJSON_AddNumberToObject(o, "id", id)
        && cJSON_AddStringToObject(o, "content", content) && add_bool(o, "single_word", false)
        && add_bool(o, "lstrip", false) && add_bool(o, "rstrip", false)
        && add_bool(o, "normalized", false) && add_bool(o, "special", true);
}

/* Appends the [text, score] pair of one id to the Unigram vocabulary. */
static bool add_vocab_entry(cJSON *vocab, const char *text, double score)
{
    cJSON *pair = append(vocab, cJSON_CreateArray());
    char number[BP_JSON_DOUBLE_SIZE];
    bp_json_double(score, number);
    return pair && append(pair, cJSON_CreateString(text)) && append(pair, cJSON_CreateRaw(number));
}

/* The text of `id` as Hugging Face sees it, NUL-terminated, into `text` (room for
 * 2 * m->max_piece_len + 1 bytes, and for the longest special id name or token + 1): a special id's name or
 * a special token's own text (*special = true), else the piece in the byte-level alphabet.
 * @return false when a special token holds a NUL byte, which a JSON string of cJSON's
 * cannot. */
static bool hf_text(const bp_model *m, const uint32_t cp[256], uint32_t id, char *text,
                    bool *special)
{
    size_t len;
    const unsigned char *bytes = bp_model_piece(m, id, &len);
    *special = id < BP_N_SPECIAL || bp_model_is_special(m, id);
    if (id < BP_N_SPECIAL) {
        strcpy(text, bp_id_names[id]);
    } else if (*special) {
        if (memchr(bytes, 0, len))
            return false;
        memcpy(text, bytes, len);
        text[len] = '\0';
    } else {
        byte_level_text(cp, bytes, len, text);
    }
    return true;
}

/* The id of the special id or special token whose text is `text`, or BP_ID_NONE. */
static uint32_t special_with_text(const bp_model *m, const char *text)
{
    for (uint32_t s = 0; s < BP_N_SPECIAL; s++)
        if (strcmp(text, bp_id_names[s]) == 0)
            return s;
    return bp_model_special_id(m, text, strlen(text));
}

/* Fills the Unigram vocabulary and the added tokens, id by id. @return BP_OK,
 * BP_ERR_NOMEM (no message), BP_ERR_DUP_PIECE with its message when a piece is written as
 * a special token's text (Hugging Face would give it the special token's place), or
 * BP_ERR_BAD_SPECIAL when a special token holds a NUL byte. */
static bp_status add_vocab(const bp_model *m, cJSON *vocab, cJSON *added, const char *path,
                           bp_error *err)
{
    uint32_t cp[256];
    byte_level_alphabet(cp);
    uint32_t n_ids = (uint32_t)bp_model_vocab_size(m);
    size_t room = 2 * (size_t)m->max_piece_len + 1;
    for (uint32_t s = 0; s < BP_N_SPECIAL; s++)
        if (strlen(bp_id_names[s]) + 1 > room)
            room = strlen(bp_id_names[s]) + 1;
    for (uint32_t id = BP_N_SPECIAL; id < n_ids; id++) {
        size_t len;
        if (bp_model_is_special(m, id) && bp_model_piece(m, id, &len) && len + 1 > room)
            room = len + 1;
    }
    char *text = malloc(room);
    if (!text)
        return BP_ERR_NOMEM;
    bp_status st = BP_OK;
    for (uint32_t id = 0; id < n_ids && st == BP_OK; id++) {
        bool special;
        if (!hf_text(m, cp, id, text, &special)) {
            st = bp_fail(err, BP_ERR_BAD_SPECIAL, id,
                         "%s: special token %u holds a NUL byte, which tokenizer.json cannot",
                         path, (unsigned)id);
        } else if (special) {
            if (!add_vocab_entry(vocab, text, HF_SPECIAL_SCORE)
                || !add_special_token(added, id, text))
                st = BP_ERR_NOMEM;
        } else {
            uint32_t clash = special_with_text(m, text);
            if (clash != BP_ID_NONE)
                st = bp_fail(err, BP_ERR_DUP_PIECE, id,
                             "%s: piece %u is written %s, the text of special id %u, which "
                             "Hugging Face would give it", path, (unsigned)id, text,
                             (unsigned)clash);
            else if (!add_vocab_entry(vocab, text, bp_model_piece_score(m, id)))
                st = BP_ERR_NOMEM;
        }
    }
    free(text);
    return st;
}

/* The whole tokenizer.json tree into *out (NULL on failure). @return as add_vocab(). */
static bp_status build_tokenizer(const bp_model *m, const char *path, cJSON **out,
                                 bp_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *added = NULL, *model = NULL, *vocab = NULL;
    bool ok = root && cJSON_AddStringToObject(root, "version", "1.0")
           && cJSON_AddNullToObject(root, "truncation") && cJSON_AddNullToObject(root, "padding")
           && (added = cJSON_AddArrayToObject(root, "added_tokens"))
           && add_typed(root, "normalizer", "NFC") && add_pre_tokenizer(root)
           && cJSON_AddNullToObject(root, "post_processor") && add_byte_level(root, "decoder")
           && (model = add_typed(root, "model", "Unigram"))
           && cJSON_AddNullToObject(model, "unk_id")
           && (vocab = cJSON_AddArrayToObject(model, "vocab"))
           && add_bool(model, "byte_fallback", false);
    bp_status st = ok ? add_vocab(m, vocab, added, path, err) : BP_ERR_NOMEM;
    if (st != BP_OK) {
        cJSON_Delete(root);
        root = NULL;
    }
    *out = root;
    return st;
}

bp_status bp_model_export_huggingface(const bp_model *model, const char *path, bp_error *err)
{
    if (!model || !path || !*path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_model_export_huggingface: no model or path");
    cJSON *root;
    bp_status st = build_tokenizer(model, path, &root, err);
    char *json = st == BP_OK ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (st == BP_OK && !json)
        st = BP_ERR_NOMEM;
    if (st == BP_ERR_NOMEM)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    else if (st == BP_OK)
        st = bp_write_file(path, json, strlen(json), err);
    cJSON_free(json);
    return st;
}
