#!/bin/sh
# cli_golden.sh -- the bp CLI against the reference BytePiece's outputs in ../shared.
#
# Usage: sh tests/cli_golden.sh /path/to/bp
# Environment: BP_SHARED_DIR, the reference folder (../shared). When its reference/ is
# absent the test is skipped (exit 77), unless BP_REQUIRE_SHARED=1, which makes it fail.
# For each reference model and each golden text (en, zh, edge), checks that line mode,
# --whole and glibc-rand sampling (alpha 0.1, seed 42) give the reference's ids byte for
# byte, and that decoding gives the text back (in NFC; byte for byte with --no-normalize).
# Prints "ok - ..." or "not ok - ..." per check and ends with "N passed, M failed".

BP=${1:?usage: sh cli_golden.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
SHARED=${BP_SHARED_DIR:-}

if [ -z "$SHARED" ] || [ ! -d "$SHARED/reference" ]; then
    if [ "${BP_REQUIRE_SHARED:-0}" = 1 ]; then
        not_ok "reference folder '$SHARED/reference' is absent and BP_REQUIRE_SHARED=1"
        finish
    fi
    echo "skipped: reference folder '$SHARED/reference' is absent (set BP_SHARED_DIR)"
    exit 77
fi

# encode MODEL INPUT OUTPUT [OPTIONS...]: bp encode into OUTPUT; a failure shows on stderr
# and leaves OUTPUT as far as it got, so the comparison that follows fails.
encode() {
    model=$1 input=$2 output=$3
    shift 3
    "$BP" encode -m "$model" "$@" "$input" >"$output"
}

decode() {
    "$BP" decode -m "$1" "$2" >"$3"
}

for name in bytepiece.plus.80k bytepiece.zh.id.eu.80k bytepiece_80k; do
    model=$SHARED/reference/models/$name.model.zst
    for text in en zh edge; do
        input=$SHARED/corpus/golden_$text.txt
        golden=$SHARED/reference/golden/$name.$text
        out=$T/$name.$text
        for mode in lines whole lines.alpha0.1.seed42; do
            zstd -qdc "$golden.$mode.ids.zst" >"$out.$mode.want"
        done

        encode "$model" "$input" "$out.lines"
        same "$out.lines" "$out.lines.want" "$name $text: line mode equals the reference"
        encode "$model" "$input" "$out.whole" --whole
        same "$out.whole" "$out.whole.want" "$name $text: --whole equals the reference"
        encode "$model" "$input" "$out.sampled" --alpha 0.1 --seed 42 --glibc-rand
        same "$out.sampled" "$out.lines.alpha0.1.seed42.want" \
            "$name $text: --alpha 0.1 --seed 42 --glibc-rand equals the reference"

        decode "$model" "$out.lines" "$out.lines.text"
        if [ "$text" = edge ]; then
            # edge holds NFD text, so decoding gives its NFC form, the same in both modes
            decode "$model" "$out.whole" "$out.whole.text"
            same "$out.lines.text" "$out.whole.text" \
                "$name edge: round trip is the same NFC text in line and --whole mode"
            check "$name edge: round trip puts the NFD text in NFC" \
                differ "$out.lines.text" "$input"
            encode "$model" "$input" "$out.raw" --no-normalize
            decode "$model" "$out.raw" "$out.raw.text"
            same "$out.raw.text" "$input" "$name edge: --no-normalize round trip is byte-exact"
        else
            same "$out.lines.text" "$input" "$name $text: round trip gives the (NFC) input back"
        fi
    done
done

finish
