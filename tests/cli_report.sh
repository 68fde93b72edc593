#!/bin/sh
# cli_report.sh -- end-to-end checks of `bp report` and `bp train --report`.
#
# Usage: sh tests/cli_report.sh /path/to/bp
# Every figure of the JSON output is checked against `bp encode --whole` run on its own on
# the same text (its ids decoded back to the normalized bytes, which encoded again without
# normalization give the same ids and, as offsets, the token boundaries in those bytes), and
# the vocabulary survey against `bp info`. The page must be self-contained
# (no script, nothing fetched), hold its charts, and stay under 1 MB for three 80k models
# (when ../shared is there). Bad inputs give one message, exit 1 and no file.
# Needs the sample data (BP_DATA_DIR, else data/ beside tests/).

BP=${1:?usage: sh cli_report.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
DATA=${BP_DATA_DIR:-$(cd "$(dirname "$0")/../data" && pwd)}
SHARED=${BP_SHARED_DIR:-$(dirname "$0")/../../shared}

# ---- Models and texts ----
cd "$T" || exit 1
cp "$DATA/sample.model" sample.model
"$BP" train -q -o small.model --vocab-size 300,400 "$DATA/sample.txt" || exit 1
"$BP" convert small.model.400 native.model || exit 1
# NFD (e + combining acute), a byte that is no UTF-8, Han the models partly lack, newlines
printf 'e\314\201 caf\303\251 \377 \347\201\257\345\241\224\347\234\213\345\256\210\344\272\272 ok\n\n\nthe end \360\237\231\202\n' >mixed.txt
cp "$DATA/sample.txt" sample.txt
texts="mixed.txt sample.txt"
if have_zstd; then
    zstd -q -o sample.txt.zst sample.txt
    texts="$texts sample.txt.zst"
fi
models="sample.model small.model.300 small.model.400 native.model"
text_args=""
for t in $texts; do text_args="$text_args --text $t"; done

# shellcheck disable=SC2086 # the word lists are ours, without spaces
expect_exit 0 "report --format json on 4 models and the texts" report --format json -o r.json \
    $text_args $models
stderr_empty "nothing on stderr"

# figures_of MODEL TEXT: what bp encode gives, as "tokens bytes characters split bytetok".
# A character is a well-formed UTF-8 sequence (the texts have no overlong or surrogate
# forms), any other byte a character of its own.
figures_of() {
    "$BP" encode -m "$1" --whole --output-format jsonl "$2" >enc.jsonl || return 1
    sed 's/.*"ids":\[\([^]]*\)\].*/\1/' enc.jsonl | tr ',' ' ' >ids.txt
    "$BP" decode -m "$1" ids.txt >normalized.bin || return 1
    # Offsets point into the text before NFC; into the normalized bytes they are those of
    # the normalized bytes encoded as they are (the same ids: NFC is idempotent).
    "$BP" encode -m "$1" --whole --no-normalize --output-format jsonl --offsets normalized.bin \
        >renc.jsonl || return 1
    sed 's/.*"ids":\[\([^]]*\)\].*/\1/' renc.jsonl | tr ',' ' ' | cmp -s - ids.txt || return 1
    sed 's/.*"offsets":\[\([^]]*\)\].*/\1/' renc.jsonl | tr ',' '\n' >offsets.txt
    od -An -v -tu1 normalized.bin | tr -s ' ' '\n' | sed '/^$/d' >bytes.txt
    awk 'NR == FNR { start[NR] = $1; n = NR; next }
         { b[FNR - 1] = $1 + 0; len = FNR }
         END {
             for (i = 1; i <= n; i++) {
                 is_start[start[i]] = 1
                 stop = (i < n) ? start[i + 1] : len
                 if (stop - start[i] == 1) single[start[i]] = 1
             }
             chars = 0; cut_chars = 0; bytetok = 0
             for (p = 0; p < len; ) {
                 c = b[p]; k = 1
                 if (c >= 194 && c <= 223) k = 2
                 else if (c >= 224 && c <= 239) k = 3
                 else if (c >= 240 && c <= 244) k = 4
                 for (j = 1; j < k; j++)
                     if (p + j >= len || b[p + j] < 128 || b[p + j] > 191) k = 1
                 chars++
                 cut = 0
                 for (j = 0; k > 1 && j < k; j++) {
                     if (j > 0 && (p + j) in is_start) cut = 1
                     if ((p + j) in single) bytetok++
                 }
                 cut_chars += cut
                 p += k
             }
             print n, len, chars, cut_chars, bytetok
         }' offsets.txt bytes.txt
}

# field NAME: the value of NAME in the result line in $T/line.
field() {
    sed -n "s/.*\"$1\": \\([-0-9.e+]*\\).*/\\1/p" line
}

for m in $models; do
    for t in $texts; do
        grep -F "{\"model\": \"$m\", \"text\": \"$t\"," r.json >line
        set -- $(figures_of "$m" "$t")
        want="tokens=$1 bytes=$2 characters=$3 split=$4 bytetok=$5"
        got="tokens=$(field tokens) bytes=$(field bytes) characters=$(field characters) split=$(field split_characters) bytetok=$(field byte_token_bytes)"
        if [ "$got" = "$want" ]; then
            ok "$m on $t: counts as bp encode gives them ($got)"
        else
            not_ok "$m on $t: counts $got, bp encode gives $want"
        fi
        derived=$(awk -v tok="$1" -v by="$2" -v ch="$3" -v sp="$4" -v bt="$5" \
            -v bpt="$(field bytes_per_token)" -v tpk="$(field tokens_per_1000_characters)" \
            -v scs="$(field split_character_share)" -v bts="$(field byte_token_share)" \
            'function off(got, want) { d = got - want; if (d < 0) d = -d; return d > 1e-8 * (want < 1 ? 1 : want) }
             BEGIN { bad = ""
                     if (off(bpt, by / tok)) bad = bad " bytes_per_token"
                     if (off(tpk, 1000 * tok / ch)) bad = bad " tokens_per_1000_characters"
                     if (off(scs, sp / ch)) bad = bad " split_character_share"
                     if (off(bts, bt / by)) bad = bad " byte_token_share"
                     print bad }')
        check "$m on $t: the derived figures follow from the counts${derived:+ (wrong:$derived)}" \
            test -z "$derived"
        check "$m on $t: an encode speed" awk -v s="$(field encode_mb_per_s)" 'BEGIN { exit !(s > 0) }'
    done
done
# The figures must tell the models apart, or the checks above prove little.
check "the texts split characters and leave byte tokens (the checks see both)" \
    sh -c 'grep -F "\"model\": \"small.model.300\", \"text\": \"mixed.txt\"" r.json |
           grep -q "\"split_characters\": [1-9].*\"byte_token_bytes\": [1-9]"'

# ---- The vocabulary survey against bp info ----
for m in sample.model small.model.400; do
    "$BP" info -m "$m" | awk '/^length/ { on = 1; next } on { print $1, $2 }' >info_lengths
    sed -n "/\"path\": \"$m\"/,/pieces_by_length/p" r.json |
        sed -n 's/.*"pieces_by_length": \[\([^]]*\)\].*/\1/p' | tr ',' '\n' |
        awk '{ if ($1 > 0) print NR - 1, $1 }' >report_lengths
    same info_lengths report_lengths "$m: piece lengths as bp info counts them"
    sum=$(sed -n "/\"path\": \"$m\"/,/pieces_by_kind/p" r.json |
        sed -n 's/.*"pieces_by_kind": {\([^}]*\)}.*/\1/p' | tr ',' '\n' |
        awk -F': ' '{ s += $2 } END { print s }')
    pieces=$("$BP" info -m "$m" | sed -n 's/^ids: *[0-9]* (\([0-9]*\) pieces.*/\1/p')
    check "$m: every piece has one kind ($sum of $pieces)" test "$sum" = "$pieces"
done
sed -n '/"path": "sample.model"/,/"most_frequent/p' r.json >sample_survey
check "the 256 single bytes: 128 not UTF-8, 28 controls, the rest by kind" \
    grep -q '"not whole UTF-8": 128, .*"other (controls, ...)": 28' sample_survey
check "Han pieces of the sample model are counted as Han" \
    grep -q '"Han": [1-9]' sample_survey
check "pieces are escaped as bp encode --output-format pieces writes them" \
    grep -qF '"piece": "ended\\x20the\\x20door\\x20of\\x20the\\x20oil\\x20room", "bytes": 30' \
    sample_survey

# ---- The page ----
# shellcheck disable=SC2086
expect_exit 0 "report writes the page" report -o page.html $text_args $models
check "the page is HTML" grep -q '^<!DOCTYPE html>' page.html
check "the page has its charts as inline SVG (5 figures, the sweep, lengths, kinds)" \
    test "$(grep -c '<svg class="chart"' page.html)" -eq 8
check "the sizes of one training get the chart against the vocabulary size" \
    grep -q 'Bytes per token against the vocabulary size' page.html
check "the page fetches nothing and runs no script" \
    sh -c '! grep -qiE "<script|<link|<img|src=|href=|@import|url\\(" page.html'
check "the only URL is the SVG namespace" \
    sh -c 'test -z "$(grep -oE "https?://[^\" ]*" page.html | sort -u | grep -v "^http://www.w3.org/2000/svg$")"'
check "each bar carries its value and its model's name (readable without colour)" \
    grep -qF "$(printf '\302\267 small.model.300<')" page.html
expect_exit 0 "one model alone" report -o one.html --text mixed.txt sample.model
check "one model: no chart against the vocabulary size" \
    test "$(grep -c '<svg class="chart"' one.html)" -eq 7

# ---- Bad inputs: one message, exit 1, no file ----
printf 'old\n' >keep.html
expect_exit 1 "a missing text" report -o keep.html --text nowhere.txt sample.model
check "a missing text: one message naming it" \
    sh -c "test \$(wc -l <'$T/err') -eq 1 && grep -q nowhere.txt '$T/err'"
check "a missing text: the old file is untouched" grep -qx old keep.html
printf '{"AA==": [3, "", 1],' >broken.json
expect_exit 1 "a model that does not load" report -o out.html --text mixed.txt broken.json
check "a model that does not load: one message naming it" \
    sh -c "test \$(wc -l <'$T/err') -eq 1 && grep -q broken.json '$T/err'"
absent out.html "a model that does not load: no file"
: >empty.txt
expect_exit 1 "an empty text" report -o out.html --text empty.txt sample.model
stderr_has "empty.txt: the text is empty" "an empty text: the message says so"
absent out.html "an empty text: no file"
expect_exit 2 "no --text at all" report -o out.html sample.model
stderr_has "missing --text" "no --text: the message says so"
absent out.html "no --text: no file"
expect_exit 2 "no model" report -o out.html --text mixed.txt
expect_exit 2 "a bad --format" report --format xml --text mixed.txt sample.model
expect_exit 1 "a directory that does not exist" report -o no/such/dir.html --text mixed.txt \
    sample.model
check "no temporary file is left" sh -c "! ls -a '$T' | grep -q '\\.tmp\\.'"
expect_exit 0 "--help" report --help
out_has "split characters" "--help defines the figures"

# ---- bp train --report ----
expect_exit 0 "train --report --heldout" train -q -o tr.model --vocab-size 300,350 \
    --report tr.html --heldout mixed.txt "$DATA/sample.txt"
check "train --report: the page compares the sizes trained" \
    sh -c 'grep -q "tr.model.300" tr.html && grep -q "tr.model.350" tr.html &&
           grep -q "against the vocabulary size" tr.html && grep -q "mixed.txt" tr.html'
check "train --report --heldout: no note about training text" sh -c '! grep -q "class=\"note\"" tr.html'
expect_exit 0 "train --report without --heldout" train -q -o tr2.model --vocab-size 300 \
    --report tr2.html "$DATA/sample.txt"
check "train --report without --heldout: measured on the training text, and the page says so" \
    grep -q 'class="note">Measured on the training text' tr2.html
expect_exit 2 "train --heldout without --report" train -q -o tr3.model --heldout mixed.txt \
    "$DATA/sample.txt"
expect_exit 1 "train --report with a missing held-out text fails before training" \
    train -q -o tr4.model --report tr4.html --heldout nowhere.txt "$DATA/sample.txt"
absent tr4.model "train --report with a missing held-out text: no model"

# ---- Three 80k models: under 1 MB ----
R=$SHARED/reference/models
if [ -r "$R/bytepiece.plus.80k.model.zst" ]; then
    expect_exit 0 "three 80k models" report -o big.html --text "$SHARED/corpus/golden_edge.txt" \
        "$R/bytepiece.plus.80k.model.zst" "$R/bytepiece_80k.model.zst" \
        "$R/bytepiece.zh.id.eu.80k.model.zst"
    size=$(wc -c <big.html)
    check "three 80k models: the page is under 1 MB ($size bytes)" test "$size" -lt 1000000
else
    echo "skip - three 80k models: $R is absent"
fi

finish
