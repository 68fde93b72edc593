#!/bin/sh
# cli_megatron.sh -- `bp encode --output-format megatron` and `bp merge-megatron`.
#
# Usage: sh tests/cli_megatron.sh /path/to/bp /path/to/megatron_read
# Environment: BP_DATA_DIR (data/: sample.model, sample.txt); BP_SHARED_DIR (../shared:
# the golden part is skipped, with a message, when its reference/ is absent).
# megatron_read (tests/megatron_read.c) reads a dataset from the format's description and
# prints one line of ids per document: it must print exactly what `bp encode` prints.
# Checked: uint16 and (golden models of 80k ids) int32 datasets; --bos/--eos; --threads;
# stdin, zstd on stdin in every input mode; --skip-bad-lines; sharded encoding, with and
# without sampling (--first-text), merged, equal to one run byte for byte; bad merges
# (missing, truncated, mismatched inputs) exit 1 with one message and write nothing; a run
# that fails or is killed leaves no file under the dataset's names.

BP=${1:?usage: sh cli_megatron.sh /path/to/bp /path/to/megatron_read}
READ=${2:?usage: sh cli_megatron.sh /path/to/bp /path/to/megatron_read}
. "$(dirname "$0")/cli_lib.sh"
DATA=${BP_DATA_DIR:-$(dirname "$0")/../data}
M=$DATA/sample.model
TEXT=$DATA/sample.txt

# megatron PREFIX ARGS...: bp encode --output-format megatron -o PREFIX ARGS...
megatron() {
    prefix=$1
    shift
    "$BP" encode -m "$M" --output-format megatron -o "$prefix" "$@" 2>"$T/err"
}

# dataset_is PREFIX WANT DESCRIPTION: megatron_read of PREFIX prints the file WANT.
dataset_is() {
    "$READ" "$1" >"$T/read" 2>"$T/read.err" || cat "$T/read.err"
    same "$T/read" "$2" "$3"
}

# same_dataset A B DESCRIPTION: the datasets A and B are byte-identical.
same_dataset() {
    if cmp -s "$1.bin" "$2.bin" && cmp -s "$1.idx" "$2.idx"; then
        ok "$3"
    else
        not_ok "$3 ($(cmp "$1.bin" "$2.bin" 2>&1; cmp "$1.idx" "$2.idx" 2>&1))"
    fi
}

# nothing_at PREFIX DESCRIPTION: no PREFIX.bin, PREFIX.idx, nor a temporary file of them.
nothing_at() {
    check "$2" sh -c 'for f in "$1".*; do [ -e "$f" ] && exit 1; done; exit 0' - "$1"
}

# ---- uint16: the ids of bp encode, with --bos/--eos, on several threads ----
"$BP" encode -m "$M" "$TEXT" >"$T/ids"
check "encode to a dataset succeeds" megatron "$T/one" "$TEXT"
stderr_has "213 documents, 6902 tokens (uint16)" "the summary line gives documents, tokens and dtype"
dataset_is "$T/one" "$T/ids" "the reader reads back exactly the ids of bp encode (uint16)"
check "the .idx is 34 + 12 * 213 + 8 * 214 bytes" test "$(wc -c <"$T/one.idx")" -eq 4302
check "the .bin is the u16 output" sh -c '"$1" encode -m "$2" --output-format u16 "$3" | cmp -s - "$4"' \
    - "$BP" "$M" "$TEXT" "$T/one.bin"
nothing_at "$T/one.bin" "no temporary file is left beside the dataset"

"$BP" encode -m "$M" --bos --eos "$TEXT" >"$T/ids.be"
megatron "$T/be" --bos --eos "$TEXT"
dataset_is "$T/be" "$T/ids.be" "--bos --eos are in the dataset's sequences"

for i in $(seq 100); do cat "$TEXT"; done >"$T/big.txt"
megatron "$T/big1" "$T/big.txt"
megatron "$T/big2" --threads 2 "$T/big.txt"
same_dataset "$T/big1" "$T/big2" "--threads 2 writes the same dataset as one thread (1.2 MB input)"
megatron "$T/samp1" --alpha 0.1 --seed 7 "$T/big.txt"
megatron "$T/samp2" --alpha 0.1 --seed 7 --threads 2 "$T/big.txt"
same_dataset "$T/samp1" "$T/samp2" "sampled: --threads 2 writes the same dataset as one thread"

# ---- standard input, zstd, JSONL, --skip-bad-lines ----
megatron "$T/stdin" <"$TEXT"
same_dataset "$T/stdin" "$T/one" "standard input gives the dataset of the file"
if have_zstd; then
    zstd -q -c "$TEXT" >"$T/sample.txt.zst"
    megatron "$T/zin" <"$T/sample.txt.zst"
    same_dataset "$T/zin" "$T/one" "zstd on standard input, line mode"
    "$BP" encode -m "$M" --whole "$TEXT" >"$T/ids.whole"
    megatron "$T/zwhole" --whole - <"$T/sample.txt.zst"
    dataset_is "$T/zwhole" "$T/ids.whole" "zstd on standard input, --whole: one document"
    "$BP" encode -m "$M" <"$T/sample.txt.zst" >"$T/ids.zstdin"
    same "$T/ids.zstdin" "$T/ids" "zstd on standard input, ids output"
else
    echo "# zstd not found: zstd on standard input not checked"
fi
printf '{"text":"hello world"}\nnot json\n{"other":1}\n{"text":"again"}\n' >"$T/bad.jsonl"
printf '{"text":"hello world"}\n{"text":"again"}\n' >"$T/good.jsonl"
"$BP" encode -m "$M" --input-format jsonl "$T/good.jsonl" >"$T/ids.good"
megatron "$T/skip" --input-format jsonl --skip-bad-lines "$T/bad.jsonl"
check "--skip-bad-lines: exit 0" test $? -eq 0
stderr_has 'skipped 2 bad lines' "--skip-bad-lines tells how many lines it skipped"
dataset_is "$T/skip" "$T/ids.good" "--skip-bad-lines: the dataset holds the good records"
if have_zstd; then
    zstd -q -c "$T/bad.jsonl" >"$T/bad.jsonl.zst"
    megatron "$T/zskip" --input-format jsonl --skip-bad-lines <"$T/bad.jsonl.zst"
    same_dataset "$T/zskip" "$T/skip" "zstd JSONL on standard input with --skip-bad-lines"
fi
megatron "$T/noskip" --input-format jsonl "$T/bad.jsonl"
check "a bad record without --skip-bad-lines: exit 1" test $? -eq 1
nothing_at "$T/noskip" "a failed run leaves no dataset and no temporary file"
cp "$T/one.bin" "$T/keep.bin"
cp "$T/one.idx" "$T/keep.idx"
megatron "$T/keep" --input-format jsonl "$T/bad.jsonl"
same_dataset "$T/keep" "$T/one" "a failed run leaves the dataset it would replace as it was"

expect_exit 2 "--output-format megatron without -o is a usage error" \
    encode -m "$M" --output-format megatron "$TEXT"
expect_exit 2 "-o without --output-format megatron is a usage error" encode -m "$M" -o "$T/x" "$TEXT"
expect_exit 2 "--skip-bad-lines without --input-format jsonl is a usage error" \
    encode -m "$M" --skip-bad-lines "$TEXT"
expect_exit 2 "--first-text with --glibc-rand is a usage error" \
    encode -m "$M" --alpha 0.1 --glibc-rand --first-text 3 "$TEXT"

# ---- killed mid-way: nothing under the dataset's names ----
mkfifo "$T/fifo"
"$BP" encode -m "$M" --output-format megatron -o "$T/killed" "$T/fifo" 2>/dev/null &
pid=$!
exec 3>"$T/fifo"
cat "$TEXT" >&3
# mid-way: the texts so far are written to the temporary .bin, the input is still open
for i in $(seq 100); do
    set -- "$T"/killed.bin.tmp.*
    [ -e "$1" ] && break
    sleep 0.1
done
check "a run in progress writes a temporary .bin" test -e "$1"
kill -9 "$pid"
wait "$pid" 2>/dev/null
exec 3>&-
check "a killed run leaves no PREFIX.bin and no PREFIX.idx" \
    test ! -e "$T/killed.bin" -a ! -e "$T/killed.idx"

# ---- shards, merged, equal one run; sampling with --first-text ----
split -l 1000 "$T/big.txt" "$T/shard."
set -- "$T"/shard.*
check "the corpus is in several shards" test $# -ge 3
first=0
inputs=
for shard in "$@"; do
    megatron "$shard" "$shard"
    megatron "$shard.s" --alpha 0.1 --seed 7 --first-text "$first" "$shard"
    first=$((first + $(wc -l <"$shard")))
    inputs="$inputs $shard"
done
# shellcheck disable=SC2086
run merge-megatron -o "$T/merged" $inputs
check "merge-megatron: exit 0" test "$status" -eq 0
same_dataset "$T/merged" "$T/big1" "shards encoded apart and merged give the one-run dataset"
# shellcheck disable=SC2086
run merge-megatron -o "$T/merged.s" $(for s in $inputs; do printf '%s.s ' "$s"; done)
same_dataset "$T/merged.s" "$T/samp1" \
    "sampled shards with --first-text, merged, give the one-run sampled dataset"
run merge-megatron -o "$T/m1" "$T/shard.aa" "$T/shard.ab"
run merge-megatron -o "$T/m2" "$T/m1" "$T/shard.ac"
run merge-megatron -o "$T/m3" "$T/shard.ab" "$T/shard.ac"
run merge-megatron -o "$T/m4" "$T/shard.aa" "$T/m3"
same_dataset "$T/m2" "$T/m4" "merging is associative: (a b) c = a (b c)"
run merge-megatron -o "$T/mone" "$T/one"
same_dataset "$T/mone" "$T/one" "merging one dataset copies it"

# ---- bad merges: one message, exit 1, nothing written ----
# bad_merge DESCRIPTION IN...: merge-megatron exits 1 with one line on stderr, and writes
# nothing.
bad_merge() {
    desc=$1
    shift
    run merge-megatron -o "$T/refused" "$@"
    if [ "$status" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then
        ok "$desc: exit 1, one message"
    else
        not_ok "$desc: exit $status, stderr: $(head -c 300 "$T/err")"
    fi
    nothing_at "$T/refused" "$desc: nothing written"
}
bad_merge "a missing .idx" "$T/one" "$T/nowhere"
head -c 100 "$T/one.idx" >"$T/trunc.idx"
cp "$T/one.bin" "$T/trunc.bin"
bad_merge "a truncated .idx" "$T/one" "$T/trunc"
stderr_has "truncated index" "a truncated .idx is called truncated"
cp "$T/one.idx" "$T/short.idx"
head -c 1000 "$T/one.bin" >"$T/short.bin"
bad_merge "a truncated .bin" "$T/one" "$T/short"
# a model of 65795 ids (every pair of bytes a piece) gives int32 datasets
awk 'BEGIN { for (i = 0; i < 256; i++) for (j = 0; j < 256; j++) printf "\\x%02x\\x%02x\t1000\n", i, j }' |
    "$BP" import --to native -o "$T/wide.model"
"$BP" encode -m "$T/wide.model" "$TEXT" >"$T/ids.wide"
"$BP" encode -m "$T/wide.model" --output-format megatron -o "$T/wide" "$TEXT" 2>"$T/err"
stderr_has "(int32)" "a model of 65795 ids gives an int32 dataset"
dataset_is "$T/wide" "$T/ids.wide" "the reader reads back exactly the ids of bp encode (int32)"
bad_merge "datasets of different dtypes" "$T/one" "$T/wide"
stderr_has "dtype" "the dtype mismatch is named"
printf 'not an index at all, but long enough to have a header' >"$T/junk.idx"
: >"$T/junk.bin"
bad_merge "a file that is not an index" "$T/junk"
expect_exit 2 "merge-megatron without -o is a usage error" merge-megatron "$T/one"
expect_exit 2 "merge-megatron without inputs is a usage error" merge-megatron -o "$T/x"

# ---- int32: the golden texts with the reference models of 80k ids ----
SHARED=${BP_SHARED_DIR:-}
if [ -n "$SHARED" ] && [ -d "$SHARED/reference" ]; then
    name=bytepiece_80k
    "$BP" convert "$SHARED/reference/models/$name.model.zst" "$T/golden.model" # fast loads
    for text in en zh edge; do
        golden=$SHARED/reference/golden/$name.$text
        for mode in lines whole; do
            zstd -qdc "$golden.$mode.ids.zst" >"$T/golden.want"
            flag=
            [ "$mode" = whole ] && flag=--whole
            # shellcheck disable=SC2086
            "$BP" encode -m "$T/golden.model" --output-format megatron -o "$T/golden" $flag \
                "$SHARED/corpus/golden_$text.txt" 2>"$T/err"
            dataset_is "$T/golden" "$T/golden.want" \
                "$name $text $mode: the reader reads back the reference's ids (int32)"
        done
    done
    stderr_has "(int32)" "a model of 80k ids gives an int32 dataset"
else
    echo "skipped: golden datasets (reference folder '$SHARED/reference' is absent)"
fi

finish
