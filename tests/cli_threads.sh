#!/bin/sh
# cli_threads.sh -- `bp encode --threads N` gives exactly the one-thread output.
#
# Usage: sh tests/cli_threads.sh /path/to/bp
# Environment: BP_DATA_DIR (data/, for the sample model and text), BP_SHARED_DIR (../shared;
# the golden-text checks are skipped without it).
# The input is made large enough (over 1 MB) for the threads to be used, and has long
# and empty lines, no final newline and several files; the outputs of 1, 2 and 3 threads must
# be byte-identical, deterministic and sampled with --seed. Prints
# "ok - ..." or "not ok - ..." per check and ends with "N passed, M failed".

BP=${1:?usage: sh cli_threads.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
DATA=${BP_DATA_DIR:-$(dirname "$0")/../data}
SHARED=${BP_SHARED_DIR:-}

M=$DATA/sample.model
# About 1.4 MB (more than one block of 1 MB, so that threads are used): the sample text many
# times, a long line and runs of empty lines in between.
i=0
: >"$T/big.txt"
while [ $i -lt 12 ]; do
    cat "$DATA/sample.txt" "$DATA/sample.txt" "$DATA/sample.txt" "$DATA/sample.txt" >>"$T/big.txt"
    i=$((i + 1))
done
cp "$T/big.txt" "$T/b2.txt"
k=0
while [ $k -lt 5 ]; do
    cat "$T/b2.txt" >>"$T/big.txt"
    k=$((k + 1))
done
{
    tr '\n' ' ' <"$DATA/sample.txt"
    printf '\n\n\n\n'
    cat "$DATA/sample.txt"
    printf 'no final newline'
} >>"$T/big.txt"
printf 'second file\n\nend' >"$T/small.txt"

# compare DESC ARGS...: bp encode ARGS with 1, 2 and 3 threads; all outputs equal.
compare() {
    desc=$1
    shift
    "$BP" encode -m "$M" --threads 1 "$@" >"$T/t1" 2>"$T/e1"
    s1=$?
    for n in 2 3; do
        "$BP" encode -m "$M" --threads $n "$@" >"$T/tn" 2>"$T/en"
        sn=$?
        if [ $s1 -eq 0 ] && [ $sn -eq 0 ] && cmp -s "$T/t1" "$T/tn"; then
            ok "$desc: --threads $n equals --threads 1"
        else
            not_ok "$desc: --threads $n differs from --threads 1 (exit $s1/$sn; $(head -c 200 "$T/en"))"
        fi
    done
}

compare "deterministic" "$T/big.txt"
compare "sampling --seed 11" --alpha 0.1 --seed 11 "$T/big.txt"
compare "uniform sampling" --alpha 0 --seed 3 "$T/big.txt"
compare "several files" --alpha 0.2 --seed 5 "$T/big.txt" "$T/small.txt" "$T/big.txt"
compare "pieces, bos, eos" --output-format pieces --bos --eos "$T/big.txt"
compare "no normalization" --no-normalize "$T/big.txt"
compare "small input" "$T/small.txt"
compare "--glibc-rand" --alpha 0.1 --seed 42 --glibc-rand "$T/small.txt" "$T/big.txt"
compare "--whole" --whole "$T/small.txt" "$T/big.txt"
# JSONL: a document per record (each line of big.txt with a newline, so that documents have
# several chunks, then one record of about 200 KB), split into blocks like lines.
LC_ALL=C awk '{ gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); printf "{\"text\": \"%s\\n\"}\n", $0 }
    NR == 100 { long = $0 } END { printf "{\"text\": \""; for (i = 0; i < 2000; i++) printf "%s ", long; print "\"}" }' \
    "$T/big.txt" >"$T/big.jsonl"
printf '{"text": "second file"}\n\n{"text": ""}\n{"text": "end"}' >"$T/small.jsonl"
compare "JSONL documents" --input-format jsonl "$T/big.jsonl"
compare "JSONL, sampling, u32, several files" --input-format jsonl --output-format u32 --eos \
    --alpha 0.1 --seed 4 "$T/big.jsonl" "$T/small.jsonl" "$T/big.jsonl"
compare "JSONL, jsonl output with offsets" --input-format jsonl --output-format jsonl --offsets \
    "$T/big.jsonl"
"$BP" encode -m "$M" --input-format jsonl --output-format jsonl --threads 2 - <"$T/big.jsonl" >"$T/j2"
"$BP" encode -m "$M" --input-format jsonl --output-format jsonl --threads 1 "$T/big.jsonl" >"$T/j1"
same "$T/j2" "$T/j1" "JSONL on standard input, 2 threads"
check "JSONL: one output line per record" test "$(wc -l <"$T/j1")" -eq "$(wc -l <"$T/big.jsonl")"
# A bad record deep in the input: the same message, exit status and output before it.
{ head -n 5000 "$T/big.jsonl"; echo '{"txt": "no text member"}'; tail -n 100 "$T/big.jsonl"; } >"$T/bad.jsonl"
for n in 1 2; do
    "$BP" encode -m "$M" --input-format jsonl --threads $n "$T/bad.jsonl" >"$T/bad$n.out" 2>"$T/bad$n.err"
    echo $? >"$T/bad$n.rc"
done
same "$T/bad2.out" "$T/bad1.out" "JSONL bad record, 2 threads: the output before it"
same "$T/bad2.err" "$T/bad1.err" "JSONL bad record, 2 threads: the message"
check "JSONL bad record: exit status 1" test "$(cat "$T/bad2.rc")" -eq 1
check "JSONL bad record: the file and line are named" grep -q "bad.jsonl:5001:" "$T/bad2.err"
check "JSONL bad record: the records before it are encoded" test "$(wc -l <"$T/bad2.out")" -eq 5000

"$BP" encode -m "$M" --threads 0 <"$T/big.txt" >"$T/stdin.out"
"$BP" encode -m "$M" --threads 1 "$T/big.txt" >"$T/file.out"
same "$T/stdin.out" "$T/file.out" "standard input, one thread per core (--threads 0)"
check "line count is kept" test "$(wc -l <"$T/file.out")" -eq "$(($(wc -l <"$T/big.txt") + 1))"

expect_exit 2 "bad --threads is a usage error" encode -m "$M" --threads banana "$T/small.txt"
expect_exit 1 "a missing file fails with threads" \
    encode -m "$M" --threads 2 "$T/big.txt" "$T/missing.txt"
stderr_has "$T/missing.txt" "the missing file is named"
same "$T/out" "$T/file.out" "the output before it is complete"

if [ -n "$SHARED" ] && [ -d "$SHARED/reference" ]; then
    Z=$T/plus80k.bpm # native: loads in milliseconds, even under sanitizers
    "$BP" convert "$SHARED/reference/models/bytepiece.plus.80k.model.zst" "$Z"
    for text in en zh; do
        input=$SHARED/corpus/golden_$text.txt
        zstd -q -d -c "$SHARED/reference/golden/bytepiece.plus.80k.$text.lines.ids.zst" >"$T/want"
        "$BP" encode -m "$Z" --threads 2 "$input" "$input" >"$T/got2"
        cat "$T/want" "$T/want" >"$T/want2"
        same "$T/got2" "$T/want2" "80k $text x2, 2 threads: the reference's ids"
        "$BP" encode -m "$Z" --threads 1 --alpha 0.1 --seed 9 "$input" "$input" >"$T/s1"
        "$BP" encode -m "$Z" --threads 2 --alpha 0.1 --seed 9 "$input" "$input" >"$T/s2"
        same "$T/s1" "$T/s2" "80k $text x2, sampling: 2 threads equal 1"
    done
else
    echo "skipped: the golden checks need the reference folder (set BP_SHARED_DIR)"
fi

finish
