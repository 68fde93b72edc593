#!/bin/sh
# cli_hf.sh -- `bp export --format huggingface` against Hugging Face tokenizers itself (the
# Node binding of its Rust core, pinned in tools/hf and installed by tools/install-deps.sh).
#
# Usage: sh tests/cli_hf.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/), BP_SHARED_DIR (../shared: the golden
# texts and the published models; those checks are skipped without it, unless
# BP_REQUIRE_SHARED=1, which makes its absence a failure).
# Needs node and tools/hf/node_modules (tools/install-deps.sh); skipped (exit 77) without.
#
# What is compared (tools/hf/compare.js): each line of a text, with its '\n', encoded by
# Hugging Face from the export and by bp encode. Every line must give the same ids or an
# exact tie (other pieces over the same bytes whose scores add up, left to right, to
# exactly bp's total), at least 99% of the lines the same ids, Hugging Face's decode must
# give bp's text back on every line, and Hugging Face must hold every score as the very
# double bp holds. Checked on the sample text with the sample model, and on the three
# golden texts with data/'s model and the three published models.
# Prints "ok - ..." or "not ok - ..." per check, the counts per model and text, and ends
# with "N passed, M failed". Exit status: 0 if every check passed, 1 otherwise, 77 (skipped).

BP=${1:?usage: sh cli_hf.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${BP_DATA_DIR:-$HERE/../data}
SHARED=${BP_SHARED_DIR:-$HERE/../../shared}
HF=$HERE/../tools/hf
if ! command -v node >/dev/null 2>&1 || [ ! -d "$HF/node_modules/tokenizers" ]; then
    echo "SKIP: node or tools/hf/node_modules/tokenizers not found (run tools/install-deps.sh)"
    exit 77
fi

# json FILE EXPR: prints the JavaScript expression EXPR of the parsed FILE (named j).
json() {
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
             console.log(eval(process.argv[2]))' "$1" "$2"
}

# compare MODEL EXPORT TEXT: sets lines identical ties different decoded scores_exact
# (as "N/M") from compare.js; its description of differing lines goes to $T/diff.
compare() {
    "$BP" encode -m "$1" "$3" >"$T/bp.ids"
    "$BP" vocab -m "$1" >"$T/vocab.tsv"
    # shellcheck disable=SC2046
    set -- $(node "$HF/compare.js" "$2" "$T/vocab.tsv" "$3" "$T/bp.ids" "$T/saved.json" \
             2>"$T/diff")
    lines=${2:-0} identical=${4:-0} ties=${6:-0} different=${8:--1} decoded=${10:-0}
    scores_exact=${12:-none}
}

# agrees NAME: the checks of one comparison.
agrees() {
    echo "# $1: $lines lines, $identical identical, $ties exact ties, $different different," \
        "$decoded decoded back, scores exact $scores_exact"
    check "$1: no line differs but by an exact tie" test "$different" -eq 0
    sed -n '1,10s/^/    /p' "$T/diff"
    check "$1: at least 99% of the lines identical" \
        test $((identical * 100)) -ge $((lines * 99)) -a "$lines" -gt 0
    check "$1: every line decodes back" test "$decoded" -eq "$lines"
    check "$1: Hugging Face reads every score exactly ($scores_exact)" \
        sh -c "echo '$scores_exact' | awk -F/ '{ exit !(\$1 == \$2 && \$2 > 0) }'"
}

# ---- The sample model (always) ----
M=$DATA/sample.model
expect_exit 0 "export the sample model" export --format huggingface "$M" "$T/s.json"
check "the export is JSON with a Unigram model" test "$(json "$T/s.json" j.model.type)" = Unigram
check "one vocabulary entry per id" \
    test "$(json "$T/s.json" j.model.vocab.length)" -eq "$("$BP" vocab -m "$M" | wc -l)"
check "ids 0-2 are the added special tokens <pad> <bos> <eos>" test \
    "$(json "$T/s.json" 'j.added_tokens.map(t => t.id + t.content + t.special).join(" ")')" \
    = "0<pad>true 1<bos>true 2<eos>true"
check "byte 0x00 (id 3) is U+0100, space (id 35) U+0120, 'A' (id 68) itself" test \
    "$(json "$T/s.json" '[3, 35, 68].map(i => j.model.vocab[i][0].codePointAt(0)).join(" ")')" \
    = "256 288 65"
check "no unknown id, no byte fallback" \
    test "$(json "$T/s.json" 'j.model.unk_id + " " + j.model.byte_fallback')" = "null false"
check "the normalizer is NFC, the decoder ByteLevel" \
    test "$(json "$T/s.json" 'j.normalizer.type + " " + j.decoder.type')" = "NFC ByteLevel"
compare "$M" "$T/s.json" "$DATA/sample.txt"
check "sample.txt: every line identical ($identical of $lines)" \
    test "$identical" -eq "$lines" -a "$lines" -gt 100
agrees "sample.model sample.txt"

# Special tokens' text in the input: Hugging Face takes it for the token; without the
# added tokens (what split_special_tokens does), the Unigram never picks ids 0-2 and gives
# bp's ids for the bytes.
printf 'a <bos> b\n' >"$T/bos.txt"
check "'<bos>' in the text is id 1 in Hugging Face" test "$(node -e '
    const { Tokenizer } = require(process.argv[1]);
    Tokenizer.fromFile(process.argv[2]).encode("a <bos> b\n")
      .then((e) => console.log(e.getIds().join(" ")));' "$HF/node_modules/tokenizers" \
    "$T/s.json")" = "100 35 1 35 101 13"
check "without the added tokens, '<bos>' in the text gives bp's ids" test "$(node -e '
    const fs = require("fs"), { Tokenizer } = require(process.argv[1]);
    const j = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
    j.added_tokens = [];
    Tokenizer.fromString(JSON.stringify(j)).encode("a <bos> b\n")
      .then((e) => console.log(e.getIds().join(" ")));' "$HF/node_modules/tokenizers" \
    "$T/s.json")" = "$("$BP" encode -m "$M" "$T/bos.txt")"

# A model's own special tokens (bp add-tokens) are added tokens too: Hugging Face matches
# them in the text as bp encode --special does, and gives their ids.
"$BP" add-tokens -m "$M" -o "$T/chat.model" '<|im_start|>' '<|im_end|>' 2>"$T/err"
expect_exit 0 "export a model with special tokens" export --format huggingface "$T/chat.model" "$T/chat.json"
printf '<|im_start|>user\nHi!<|im_end|>\n' >"$T/chat.txt"
check "special tokens: Hugging Face gives the ids of bp encode --special" test "$(node -e '
    const { Tokenizer } = require(process.argv[1]);
    Tokenizer.fromFile(process.argv[2]).encode(require("fs").readFileSync(process.argv[3], "utf8"))
      .then((e) => console.log(e.getIds().join(" ")));' "$HF/node_modules/tokenizers" \
    "$T/chat.json" "$T/chat.txt")" = "$("$BP" encode -m "$T/chat.model" --whole --special "$T/chat.txt")"

# An exact tie: "ab" and "bc" have one count, and "a" and "c" another, so a|bc and ab|c
# add the same two scores. bp keeps the longest last piece (a|bc); Hugging Face, trying
# starts in increasing order and keeping only strictly better paths, keeps it too.
printf 'ab\t10\nbc\t10\na\t5\nc\t5\n' | "$BP" import -o "$T/tie.model" - 2>"$T/err"
printf 'abc\n' >"$T/abc.txt"
expect_exit 0 "export a model with a tie" export --format huggingface "$T/tie.model" "$T/tie.json"
compare "$T/tie.model" "$T/tie.json" "$T/abc.txt"
check "the tie: bp gives a|bc (100 260 13)" test "$(cat "$T/bp.ids")" = "100 260 13"
check "the tie: Hugging Face gives the same ids" test "$identical" -eq 1
# compare.js tells a tie from a difference: given ab|c as bp's ids, it counts a tie.
echo "259 102 13" >"$T/ab_c.ids"
# shellcheck disable=SC2046
set -- $(node "$HF/compare.js" "$T/tie.json" "$T/vocab.tsv" "$T/abc.txt" "$T/ab_c.ids")
check "compare.js counts ab|c against a|bc as an exact tie" test "$6" -eq 1 -a "$8" -eq 0
echo "259 99 102 13" >"$T/ab_b_c.ids" # covers "abbc": other bytes
# shellcheck disable=SC2046
set -- $(node "$HF/compare.js" "$T/tie.json" "$T/vocab.tsv" "$T/abc.txt" "$T/ab_b_c.ids" \
         2>/dev/null)
check "compare.js counts other bytes as different" test "$6" -eq 0 -a "$8" -eq 1

# ---- Errors ----
expect_exit 2 "export --format Huggingface (the names are lowercase)" \
    export --format Huggingface "$M" "$T/x"
stderr_has "sentencepiece or huggingface" "the formats are named"
expect_exit 1 "export of a missing model" export --format huggingface "$T/nope.model" "$T/x"
check "no output after a failed load" test ! -e "$T/x"
expect_exit 1 "export into a missing directory" export --format huggingface "$M" "$T/no/x.json"
stderr_has "$T/no/x.json" "the unwritable output is named"
# A piece that the byte-level alphabet writes "<bos>" would take the special token's id.
printf '\\x3cbos>\t5\n' | "$BP" import -o "$T/bos.model" - 2>"$T/err"
expect_exit 1 "a piece written <bos> is refused" export --format huggingface "$T/bos.model" "$T/x"
stderr_has "special id 1" "the message names the special id"
check "nothing written" test ! -e "$T/x"

# ---- The golden texts, with data/'s model and the published models ----
if [ ! -d "$SHARED/reference" ]; then
    if [ "${BP_REQUIRE_SHARED:-0}" = 1 ]; then
        not_ok "reference folder '$SHARED/reference' is absent and BP_REQUIRE_SHARED=1"
    else
        echo "skipped: the golden-text checks need the reference folder (set BP_SHARED_DIR)"
    fi
else
    for model in sample bytepiece.plus.80k bytepiece.zh.id.eu.80k bytepiece_80k; do
        Z=$SHARED/reference/models/$model.model.zst
        [ "$model" = sample ] && Z=$DATA/sample.model
        expect_exit 0 "$model: export" export --format huggingface "$Z" "$T/$model.json"
        for text in edge en zh; do
            compare "$Z" "$T/$model.json" "$SHARED/corpus/golden_$text.txt"
            agrees "$model golden_$text"
        done
    done
fi

finish
