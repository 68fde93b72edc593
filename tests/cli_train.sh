#!/bin/sh
# cli_train.sh -- end-to-end checks of `bp train`.
#
# Usage: sh tests/cli_train.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/, for sample.txt), BP_SHARED_DIR (the
# reference folder ../shared; the byte-identity check with the reference trainer is skipped
# without it). Checks option errors, bad inputs (each with exit status 1, a message, and no
# model left behind), training on plain text, JSONL, zstd and standard input, several
# vocabulary sizes, thread independence and a round trip through encode/decode. Prints
# "ok - ..." or "not ok - ..." per check and ends with "N passed, M failed". Exit status:
# 0 if every check passed, 1 otherwise, 77 (skipped) without the sample data.

BP=${1:?usage: sh cli_train.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
SAMPLE=${BP_DATA_DIR:-$(dirname "$0")/../data}/sample.txt
if [ ! -f "$SAMPLE" ]; then
    echo "SKIP: $SAMPLE not found (set BP_DATA_DIR)"
    exit 77
fi
# ---- Inputs ----
printf 'hello world, hello bytes\nthe quick brown fox\n' >"$T/a.txt"
printf 'good line\nbad \377 line\nanother good line\n' >"$T/invalid.txt"
printf 'good line\nanother good line\n' >"$T/invalid-cleaned.txt"
printf '{"text": "one record\\nwith two lines"}\n\n{"text": "caf\\u00e9 and tea"}\n' \
    >"$T/good.jsonl"
printf 'one record\nwith two lines' >"$T/rec1.txt"
printf 'caf\303\251 and tea' >"$T/rec2.txt"
printf '{"text": "fine"}\nnot json at all\n{"text": "also fine"}\n' >"$T/bad.jsonl"
: >"$T/empty.txt"
mkdir "$T/out-dir"

# ---- Help and usage errors (exit 2) ----
expect_exit 0 "train --help exits 0" train --help
check "train --help documents --vocab-size" grep -qF -e "--vocab-size" "$T/out"
expect_exit 2 "--order 8 is a usage error" train --order 8 "$T/a.txt"
stderr_has "1 to 7" "--order 8 names the supported range"
expect_exit 2 "--order 0 is a usage error" train --order 0 "$T/a.txt"
expect_exit 2 "--vocab-size below 259" train --vocab-size 258 "$T/a.txt"
expect_exit 2 "--vocab-size not a number" train --vocab-size 1000,x "$T/a.txt"
expect_exit 2 "--vocab-size with an empty item" train --vocab-size 1000,,2000 "$T/a.txt"
expect_exit 2 "--min-count 0" train --min-count 0 "$T/a.txt"
expect_exit 2 "--max-piece-length -1" train --max-piece-length -1 "$T/a.txt"
expect_exit 2 "--threads not a number" train --threads many "$T/a.txt"
expect_exit 2 "--field without --jsonl" train --field body "$T/a.txt"
expect_exit 2 "unknown option" train --frobnicate "$T/a.txt"
stderr_has "--help" "usage errors hint at --help"

# ---- Bad inputs and outputs (exit 1, no model left) ----
cd "$T" || exit 1
expect_exit 1 "missing input" train -o "$T/m1.model" "$T/a.txt" "$T/nope.txt"
stderr_has "$T/nope.txt: No such file or directory" "missing input is named"
absent "$T/m1.model" "missing input leaves no model"
expect_exit 1 "a directory as input" train -o "$T/m1.model" "$T/out-dir"
stderr_has "Is a directory" "a directory as input is reported"
expect_exit 1 "empty corpus" train -o "$T/m1.model" "$T/empty.txt"
stderr_has "empty" "empty corpus is reported"
absent "$T/m1.model" "empty corpus leaves no model"
expect_exit 1 "output in a missing directory" train -o "$T/no/such/dir/m.model" "$T/a.txt"
stderr_has "cannot create $T/no/such/dir/m.model: No such file or directory" \
    "missing output directory is named"
absent "$T/no" "no directory is created"
expect_exit 1 "output is a directory" train -o "$T/out-dir" "$T/a.txt"
stderr_has "Is a directory" "output directory as model path is reported"
cp "$T/a.txt" "$T/corpus.txt"
expect_exit 1 "output is one of the inputs" train -o "$T/corpus.txt" "$T/a.txt" "$T/corpus.txt"
stderr_has "$T/corpus.txt is also an input" "an input given as the model path is reported"
same "$T/corpus.txt" "$T/a.txt" "the input is left as it was"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$T/ro" && chmod 555 "$T/ro"
    expect_exit 1 "unwritable output directory" train -o "$T/ro/m.model" "$T/a.txt"
    stderr_has "Permission denied" "unwritable output directory is reported"
fi
expect_exit 1 "invalid UTF-8" train -o "$T/m1.model" "$T/invalid.txt"
stderr_has "$T/invalid.txt: invalid UTF-8 at byte offset 14" "invalid UTF-8 names file and offset"
absent "$T/m1.model" "invalid UTF-8 leaves no model"
expect_exit 0 "--skip-bad-lines skips invalid UTF-8" \
    train --skip-bad-lines -o "$T/skipped.model" "$T/invalid.txt"
stderr_has "skipped 1 bad line" "skipped lines are counted in the summary"
expect_exit 0 "training on the cleaned text" train -q -o "$T/cleaned.model" \
    "$T/invalid-cleaned.txt"
same "$T/skipped.model" "$T/cleaned.model" "skipping a bad line equals removing it"
expect_exit 1 "bad JSONL line" train --jsonl -o "$T/m1.model" "$T/bad.jsonl"
stderr_has "$T/bad.jsonl:2: not valid JSON" "bad JSONL line names file and line"
absent "$T/m1.model" "bad JSONL line leaves no model"
expect_exit 0 "--skip-bad-lines skips bad JSONL lines" \
    train --jsonl --skip-bad-lines -o "$T/m2.model" "$T/bad.jsonl"
stderr_has "skipped 1 bad line" "skipped JSONL lines are counted"
echo 'previous content' >"$T/kept.model"
expect_exit 1 "a failed run" train -o "$T/kept.model" "$T/invalid.txt"
check "a failed run leaves an existing model alone" grep -q 'previous content' "$T/kept.model"
if have_zstd; then
    zstd -q -c "$SAMPLE" >"$T/sample.txt.zst"
    head -c 100 "$T/sample.txt.zst" >"$T/cut.zst"
    expect_exit 1 "truncated .zst" train -o "$T/m1.model" "$T/cut.zst"
    stderr_has "$T/cut.zst: zstd data ends inside a frame" "truncated .zst is named"
    absent "$T/m1.model" "truncated .zst leaves no model"
fi
check "no temporary file is left behind" test -z "$(find "$T" -name '*.tmp.*')"

# ---- Training ----
expect_exit 0 "train on sample.txt" train -o "$T/sample.model" "$SAMPLE"
stderr_has "sample.model:" "the summary names the model"
stderr_has "peak memory" "the summary gives the peak memory"
# sample.txt has too few distinct pieces for the default 10000 ids: a second line says so.
check "the summary is two lines: the figures, and why the model is small" \
    test "$(wc -l <"$T/err")" -eq 2
stderr_has "bp train: $T/sample.model: 538 ids of the 10000 asked for: the corpus segments into 1202 distinct pieces, and a piece is kept only if it occurs at least 2 times (--min-count), has at most 36 bytes (--max-piece-length)" \
    "a model under 90% of the size asked for is explained"
expect_exit 0 "train on sample.txt, 500 ids" train -o "$T/s500.model" --vocab-size 500 "$SAMPLE"
check "a model of the size asked for: the summary is one line" test "$(wc -l <"$T/err")" -eq 1
stderr_has "s500.model: 500 ids" "the summary gives the size"
# One letter repeated, 300 kB on one line: chunks of 10000 letters, each one piece longer than
# --max-piece-length, so 259 ids of the 8000 (the 256 bytes and the 3 special ids).
head -c 300000 /dev/zero | tr '\0' a >"$T/one_letter.txt"
expect_exit 0 "train on one repeated letter" train -o "$T/a.model" --vocab-size 8000 \
    "$T/one_letter.txt"
stderr_has "$T/a.model: 259 ids of the 8000 asked for: the corpus segments into 1 distinct piece," \
    "one repeated letter: the tiny model is explained"
expect_exit 0 "train -q on one repeated letter" train -q -o "$T/a.model" --vocab-size 8000 \
    "$T/one_letter.txt"
stderr_empty "train -q: no summary, no explanation"
"$BP" encode -m "$T/sample.model" "$SAMPLE" >"$T/sample.ids" &&
    "$BP" decode -m "$T/sample.model" "$T/sample.ids" >"$T/sample.back"
same "$SAMPLE" "$T/sample.back" "the trained model round-trips sample.txt"
expect_exit 0 "--quiet" train -q --threads 1 -o "$T/t1.model" "$SAMPLE"
check "--quiet prints nothing" test ! -s "$T/err"
expect_exit 0 "--threads 2" train -q --threads 2 -o "$T/t2.model" "$SAMPLE"
same "$T/t1.model" "$T/t2.model" "--threads 1 and --threads 2 give the same model"
same "$T/t1.model" "$T/sample.model" "the default thread count gives the same model"
run_with_stdin train -q -o "$T/stdin.model" - <"$SAMPLE"
check "standard input (-) trains" test "$status" -eq 0
same "$T/stdin.model" "$T/sample.model" "standard input gives the model of the file"
run_with_stdin train -q -o "$T/stdin2.model" <"$SAMPLE"
same "$T/stdin2.model" "$T/sample.model" "no FILE reads standard input"
if mkfifo "$T/fifo" 2>/dev/null; then
    cat "$SAMPLE" >"$T/fifo" &
    expect_exit 0 "train on a named pipe" train -q -o "$T/fifo.model" "$T/fifo"
    wait
    same "$T/fifo.model" "$T/sample.model" "a pipe loses none of its bytes to the input checks"
fi
if have_zstd; then
    expect_exit 0 "train on .zst" train -q -o "$T/zst.model" "$T/sample.txt.zst"
    same "$T/zst.model" "$T/sample.model" ".zst input gives the model of the plain file"
fi
expect_exit 0 "train on JSONL" train -q --jsonl -o "$T/jsonl.model" "$T/good.jsonl"
expect_exit 0 "train on the same texts as files" train -q -o "$T/files.model" \
    "$T/rec1.txt" "$T/rec2.txt"
same "$T/jsonl.model" "$T/files.model" "JSONL records are texts like files are"
expect_exit 0 "several vocabulary sizes" train -q --vocab-size 300,280 -o "$T/multi" "$SAMPLE"
check "MODEL.300 is written" test -s "$T/multi.300"
check "MODEL.280 is written" test -s "$T/multi.280"
absent "$T/multi" "MODEL itself is not written with several sizes"
# Smaller sizes are cut from the larger results (docs/algorithms.md §3.5.4), so only the
# largest must equal a run of its own.
expect_exit 0 "the largest size alone" train -q --vocab-size 300 -o "$T/single.model" "$SAMPLE"
same "$T/multi.300" "$T/single.model" "the largest size equals a run of its own"
expect_exit 0 "default output name" train -q "$T/a.txt"
check "the default output is bytepiece.model" test -s "$T/bytepiece.model"
expect_exit 0 "a model over an existing file" train -q -o "$T/kept.model" "$T/a.txt"
check "the existing file is replaced" test "$(head -c 1 "$T/kept.model")" = "{"

# ---- The reference trainer's own result ----
SMOKE=${BP_SHARED_DIR:-}/reference/train/smoke_1MB.txt
if [ -n "${BP_SHARED_DIR:-}" ] && [ -f "$SMOKE" ]; then
    expect_exit 0 "train on smoke_1MB.txt" train -q --order 6 --vocab-size 4000 \
        --min-count 8 --max-piece-length 36 -o "$T/smoke.model" "$SMOKE"
    same "$T/smoke.model" "$BP_SHARED_DIR/reference/train/smoke_1MB.v4000.mc8.model" \
        "smoke_1MB model is byte-identical to the reference trainer's"
    # train_mix (12 MB, not NFC, with the reference's options for its 8k model).
    expect_exit 0 "train on train_mix.txt.zst" train -q --vocab-size 8000 --min-count 32 \
        -o "$T/mix.model" "$BP_SHARED_DIR/corpus/train_mix.txt.zst"
    zstd -dcf "$BP_SHARED_DIR/reference/train/train_mix.v8000.mc32.model.zst" >"$T/mix.ref"
    same "$T/mix.model" "$T/mix.ref" "train_mix model is byte-identical to the reference trainer's"
elif [ "${BP_REQUIRE_SHARED:-}" = 1 ]; then
    not_ok "the reference comparison needs BP_SHARED_DIR (BP_REQUIRE_SHARED=1)"
else
    echo "# skip: the reference comparison needs BP_SHARED_DIR"
fi

finish
