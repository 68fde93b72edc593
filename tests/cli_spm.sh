#!/bin/sh
# cli_spm.sh -- `bp export --format sentencepiece` against SentencePiece's own spm_encode.
#
# Usage: sh tests/cli_spm.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/), BP_SHARED_DIR (../shared: the golden
# texts and the published models; those checks are skipped without it, unless
# BP_REQUIRE_SHARED=1, which makes its absence a failure).
# Needs spm_encode, spm_decode and spm_export_vocab (Debian package sentencepiece; CI
# installs it through tools/install-deps.sh); skipped (exit 77) without them.
#
# What is compared: spm_encode encodes each line without its '\n'; bp encodes it with its
# '\n'. On the lines where the '\n' is a token of its own (bp's last id is 13), the ids of
# spm_encode must equal bp's ids without that last id. Checked: the exported model loads and
# holds the 256 byte pieces; every line of the sample text agrees; on the golden texts at
# least 98% of the lines agree with the ensure_unicode model bytepiece.zh.id.eu.80k (the
# models the reference converter is made for) and on the English text with
# bytepiece.plus.80k; the Chinese text with bytepiece.plus.80k, whose pieces include 369
# that are not UTF-8 and so cannot be SentencePiece pieces, is measured and held to a floor.
# Prints "ok - ..." or "not ok - ..." per check, the measured agreement, and ends with
# "N passed, M failed". Exit status: 0 if every check passed, 1 otherwise, 77 (skipped).

BP=${1:?usage: sh cli_spm.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${BP_DATA_DIR:-$HERE/../data}
SHARED=${BP_SHARED_DIR:-$HERE/../../shared}
for tool in spm_encode spm_decode spm_export_vocab; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "SKIP: $tool not found (Debian: apt-get install sentencepiece)"
        exit 77
    fi
done
# agreement MODEL SPM_MODEL TEXT: compares spm_encode with bp encode line by line and sets
#   eligible  lines whose '\n' is a token of its own
#   equal     of those, lines where spm_encode gives bp's ids without the last
#   unexpressible, unexpressible_equal  eligible lines using an unused piece of the export
#   rate      100 * equal / eligible, with three decimals
agreement() {
    "$BP" encode -m "$1" "$3" >"$T/bp.ids"
    spm_encode --model="$2" --output_format=id "$3" >"$T/spm.ids"
    spm_export_vocab --model="$2" | sed -n 's/^<unused:\([0-9]*\)>\t.*/\1/p' >"$T/unused"
    # shellcheck disable=SC2046
    set -- $(awk 'FILENAME == ARGV[1] { unused[$1] = 1; next }
        FILENAME == ARGV[2] { spm[FNR] = $0; next }
        {
            n = split($0, id, " ")
            if (n == 0 || id[n] != 13) next
            eligible++
            line = ""; bad = 0
            for (i = 1; i < n; i++) { line = line (i > 1 ? " " : "") id[i]; if (id[i] in unused) bad = 1 }
            same = line == spm[FNR]
            equal += same; unexpressible += bad; unexpressible_equal += bad && same
        }
        END { printf "%d %d %d %d %.3f\n", eligible, equal, unexpressible, unexpressible_equal,
              eligible ? 100 * equal / eligible : 0 }' "$T/unused" "$T/spm.ids" "$T/bp.ids")
    eligible=$1 equal=$2 unexpressible=$3 unexpressible_equal=$4 rate=$5
}

# at_least RATE PERCENT: RATE (with decimals) >= PERCENT.
at_least() {
    awk -v r="$1" -v p="$2" 'BEGIN { exit !(r + 0 >= p + 0) }'
}

# ---- The sample model (always) ----
M=$DATA/sample.model
expect_exit 0 "export the sample model" export --format sentencepiece "$M" "$T/s.spm"
check "the export is a protobuf starting with a piece (field 1)" \
    sh -c "head -c 1 '$T/s.spm' | od -An -tx1 | grep -q '0a'"
expect_exit 0 "--format defaults to sentencepiece" export "$M" "$T/s2.spm"
check "the same bytes either way" cmp -s "$T/s.spm" "$T/s2.spm"
spm_export_vocab --model="$T/s.spm" >"$T/vocab" 2>"$T/err"
check "spm_export_vocab loads the model" test $? -eq 0
check "256 byte pieces <0xXX>" test "$(grep -cE '^<0x[0-9A-F]{2}>	' "$T/vocab")" -eq 256
check "ids 0-2 are <unk> <s> </s>" sh -c "head -n 3 '$T/vocab' | cut -f 1 | tr '\n' ' ' | grep -qx '<unk> <s> </s> '"
check "id 3 is the byte piece <0x00> with its own score" \
    sh -c "sed -n 4p '$T/vocab' | grep -q '^<0x00>	-[0-9]'"
check "a space is the normal piece U+2581 at id 35" sh -c "sed -n 36p '$T/vocab' | grep -q '^▁	'"
check "backslash is a byte piece at its own id 95" sh -c "sed -n 96p '$T/vocab' | grep -q '^<0x5C>	'"
check "the appended byte pieces score -100" \
    sh -c "tail -n 1 '$T/vocab' | grep -q '^<0x7E>	-100$'"
agreement "$M" "$T/s.spm" "$DATA/sample.txt"
echo "# sample.txt: $equal of $eligible lines agree"
check "sample.txt: every line agrees ($equal of $eligible)" test "$equal" -eq "$eligible" -a "$eligible" -gt 100

# spm_decode turns bp's ids (without the '\n' token) back into the text.
"$BP" encode -m "$M" "$DATA/sample.txt" |
    awk '{ n = split($0, id, " "); if (id[n] == 13) { $NF = ""; sub(/ $/, ""); print } }' >"$T/ids"
"$BP" encode -m "$M" "$DATA/sample.txt" | paste -d '\t' - "$DATA/sample.txt" |
    awk -F '\t' '{ n = split($1, id, " "); if (id[n] == 13) print substr($0, length($1) + 2) }' >"$T/want"
spm_decode --model="$T/s.spm" --input_format=id "$T/ids" >"$T/got" 2>"$T/err"
check "spm_decode of bp's ids gives the text back" cmp -s "$T/got" "$T/want"

# ---- Errors ----
expect_exit 2 "export without operands" export
expect_exit 2 "export with one operand" export "$M"
expect_exit 2 "export --format yaml" export --format yaml "$M" "$T/x"
check "the bad format is named" grep -q yaml "$T/err"
expect_exit 1 "export of a missing model" export "$T/nope.model" "$T/x"
check "no output after a failed load" test ! -e "$T/x"
expect_exit 1 "export into a missing directory" export "$M" "$T/no/such/x.spm"
check "the unwritable output is named" grep -qF "$T/no/such/x.spm" "$T/err"
expect_exit 0 "export --help" export --help

# ---- The golden texts with the published models ----
if [ ! -d "$SHARED/reference" ]; then
    if [ "${BP_REQUIRE_SHARED:-0}" = 1 ]; then
        not_ok "reference folder '$SHARED/reference' is absent and BP_REQUIRE_SHARED=1"
    else
        echo "skipped: the golden-text checks need the reference folder (set BP_SHARED_DIR)"
    fi
else
    for model in bytepiece.zh.id.eu.80k bytepiece.plus.80k; do
        Z=$SHARED/reference/models/$model.model.zst
        expect_exit 0 "$model: export" export "$Z" "$T/$model.spm"
        for text in en zh; do
            agreement "$Z" "$T/$model.spm" "$SHARED/corpus/golden_$text.txt"
            echo "# $model golden_$text: $equal of $eligible lines agree ($rate%);" \
                "$unexpressible use pieces that are not UTF-8 ($unexpressible_equal of them agree)"
            if [ "$model.$text" = bytepiece.plus.80k.zh ]; then
                # 1000 of its lines need pieces that split a character, which SentencePiece
                # cannot hold: a floor against regressions, not the 98% criterion.
                check "$model golden_$text: at least 85% of the lines agree ($rate%)" at_least "$rate" 85
            else
                check "$model golden_$text: at least 98% of the lines agree ($rate%)" at_least "$rate" 98
            fi
        done
    done
fi

finish
