#!/bin/sh
# cli_convert.sh -- `bp convert` and native models in the bp CLI.
#
# Usage: sh tests/cli_convert.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/, for data/sample.model), BP_SHARED_DIR
# (../shared; the 80k checks are skipped without it).
# Checks: JSON -> native -> JSON gives back the original file byte for byte (it is in the
# reference layout); `bp encode` and `bp decode` with the native model equal those with the
# JSON model (deterministic, sampled, glibc-rand); exit statuses 0 / 1 / 2 and messages
# that name the file. Prints "ok - ..." or "not ok - ..." per check and ends with
# "N passed, M failed". Exit status: 0 if every check passed, 1 otherwise.

BP=${1:?usage: sh cli_convert.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
DATA=${BP_DATA_DIR:-$(dirname "$0")/../data}
SHARED=${BP_SHARED_DIR:-}
M=$DATA/sample.model
if [ ! -f "$M" ]; then
    echo "not ok - $M is missing"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- Round trips ----
expect_exit 0 "JSON to native" convert "$M" "$T/s.bpm"
check "the native file starts with the magic" sh -c "head -c 4 '$T/s.bpm' | od -An -tx1 | grep -q '89 42 50 4d'"
expect_exit 0 "native to JSON" convert "$T/s.bpm" "$T/s.json"
same "$T/s.json" "$M" "JSON -> native -> JSON is byte-identical to the original"
expect_exit 0 "--to native from native" convert --to native "$T/s.bpm" "$T/s2.bpm"
same "$T/s2.bpm" "$T/s.bpm" "native -> native is byte-identical"
expect_exit 0 "--to json from JSON" convert --to json "$M" "$T/s3.json"
same "$T/s3.json" "$M" "JSON -> JSON is byte-identical (reference layout)"
if zstd -q -c "$T/s.bpm" >"$T/s.bpm.zst" 2>/dev/null; then
    expect_exit 0 "a zstd-compressed native model converts to JSON" convert "$T/s.bpm.zst" "$T/z.json"
    same "$T/z.json" "$M" "zstd native -> JSON is byte-identical"
    expect_exit 0 "encode with a zstd-compressed native model" encode -m "$T/s.bpm.zst" "$DATA/hello.txt"
fi

# ---- Encoding and decoding with a native model ----
for text in "$DATA/hello.txt" "$DATA/sample.txt"; do
    name=$(basename "$text")
    "$BP" encode -m "$M" "$text" >"$T/json.ids"
    "$BP" encode -m "$T/s.bpm" "$text" >"$T/native.ids"
    same "$T/native.ids" "$T/json.ids" "$name: encode with native equals JSON"
    "$BP" encode -m "$M" --alpha 0.1 --seed 7 "$text" >"$T/json.s"
    "$BP" encode -m "$T/s.bpm" --alpha 0.1 --seed 7 "$text" >"$T/native.s"
    same "$T/native.s" "$T/json.s" "$name: sampling with native equals JSON (same seed)"
    "$BP" encode -m "$M" --alpha 0.1 --seed 7 --glibc-rand "$text" >"$T/json.g"
    "$BP" encode -m "$T/s.bpm" --alpha 0.1 --seed 7 --glibc-rand "$text" >"$T/native.g"
    same "$T/native.g" "$T/json.g" "$name: --glibc-rand with native equals JSON"
    "$BP" encode -m "$T/s.bpm" --whole --output-format pieces "$text" >"$T/native.p"
    "$BP" encode -m "$M" --whole --output-format pieces "$text" >"$T/json.p"
    same "$T/native.p" "$T/json.p" "$name: --whole pieces with native equals JSON"
    "$BP" decode -m "$T/s.bpm" "$T/native.ids" >"$T/native.txt"
    same "$T/native.txt" "$text" "$name: decode with native gives the text back"
done

# ---- Errors ----
expect_exit 2 "no operands" convert
expect_exit 2 "one operand" convert "$M"
expect_exit 2 "three operands" convert "$M" "$T/a" "$T/b"
expect_exit 2 "bad --to" convert --to yaml "$M" "$T/a"
stderr_has "yaml" "the bad --to value is named"
expect_exit 2 "unknown option" convert --frobnicate "$M" "$T/a"
expect_exit 0 "--help" convert --help
check "--help shows the usage" grep -q "Usage: bp convert" "$T/out"
expect_exit 1 "missing input" convert "$T/nope.model" "$T/a.bpm"
stderr_has "$T/nope.model" "the missing input is named"
check "no output after a failed load" test ! -e "$T/a.bpm"
expect_exit 1 "output directory missing" convert "$M" "$T/no/such/dir/x.bpm"
stderr_has "$T/no/such/dir/x.bpm" "the unwritable output is named"
head -c 1000 "$T/s.bpm" >"$T/cut.bpm"
expect_exit 1 "truncated native input" convert "$T/cut.bpm" "$T/cut.json"
stderr_has "truncated" "truncation is reported"
expect_exit 1 "encode with a truncated native model" encode -m "$T/cut.bpm" "$DATA/hello.txt"
stderr_has "$T/cut.bpm" "the truncated model is named"
cp "$T/s.bpm" "$T/bad.bpm"
printf 'X' | dd of="$T/bad.bpm" bs=1 seek=2000 conv=notrunc 2>/dev/null
expect_exit 1 "encode with a damaged native model" encode -m "$T/bad.bpm" "$DATA/hello.txt"
stderr_has "checksum" "the damage is reported"

# ---- The published 80k model, when ../shared is present ----
if [ -n "$SHARED" ] && [ -d "$SHARED/reference" ]; then
    Z=$SHARED/reference/models/bytepiece.plus.80k.model.zst
    expect_exit 0 "80k: JSON (zstd) to native" convert "$Z" "$T/p.bpm"
    expect_exit 0 "80k: native to JSON" convert "$T/p.bpm" "$T/p.json"
    zstd -q -d -c "$Z" >"$T/p.orig"
    same "$T/p.json" "$T/p.orig" "80k: JSON -> native -> JSON is byte-identical"
    for text in en zh edge; do
        input=$SHARED/corpus/golden_$text.txt
        zstd -q -d -c "$SHARED/reference/golden/bytepiece.plus.80k.$text.lines.ids.zst" >"$T/want"
        "$BP" encode -m "$T/p.bpm" "$input" >"$T/got"
        same "$T/got" "$T/want" "80k $text: encode with native equals the reference"
    done
else
    echo "skipped: the 80k checks need the reference folder (set BP_SHARED_DIR)"
fi

finish
