#!/bin/sh
# cli_memlimit.sh -- --memory-limit: bp train, count and segment spill sorted runs to
# --temp-dir and give the same bytes as without a limit; bp merge accepts the option.
#
# Usage: sh tests/cli_memlimit.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/), BP_SHARED_DIR (../shared, for the
# golden texts; skipped without them). The limit is the smallest allowed, 1M, so that the
# 2 MB corpus spills in every pass (each check asserts that it did). Checks: the same
# model, n-gram counts and piece counts with and without the limit (1 and 2 threads, two
# sets of options), the summary saying how much spilled, no file left in --temp-dir
# afterwards (also when the run fails), and bad SIZE values refused with exit status 2.

BP=${1:?usage: sh cli_memlimit.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
need_golden_texts
set -- "$DATA/sample.txt" "$DATA/hello.txt" "$GOLDEN/golden_en.txt" "$GOLDEN/golden_zh.txt" \
    "$GOLDEN/golden_edge.txt"
mkdir "$T/tmp"

# temp_dir_empty: nothing is left in the --temp-dir of the runs.
temp_dir_empty() {
    [ -z "$(ls -A "$T/tmp")" ]
}

# same_with_limit NAME BP-ARGS...: runs bp with ARGS -o $T/NAME.plain, then with
# --memory-limit 1M -o $T/NAME.limited, and checks the outputs, the spilling and the
# temporary directory.
same_with_limit() {
    name=$1
    shift
    check_logged "$name: runs without a limit" "$BP" "$@" -o "$T/$name.plain"
    run "$@" -o "$T/$name.limited" --memory-limit 1M --temp-dir "$T/tmp"
    check "$name: runs with --memory-limit 1M (exit $status: $(head -c 300 "$T/err"))" \
        [ "$status" -eq 0 ]
    check "$name: the same bytes with the limit" cmp -s "$T/$name.plain" "$T/$name.limited"
    stderr_has "; spilled " "$name: the summary says how much spilled"
    check "$name: spilled more than one run" grep -qE 'spilled [^;]+ in [0-9]+ runs' "$T/err"
    check "$name: no run file left in --temp-dir" temp_dir_empty
}

VOCAB=2000
same_with_limit train train --vocab-size $VOCAB "$@"
same_with_limit train_1_thread train --vocab-size $VOCAB --threads 1 "$@"
same_with_limit train_options train --vocab-size 600 --order 4 --min-count 3 \
    --isolate-digits --max-piece-length 12 "$@"
same_with_limit count count "$@"
same_with_limit segment segment -n "$T/count.plain" "$@"
same_with_limit segment_2_threads segment --threads 2 -n "$T/count.plain" "$@"

# The staged training under a limit gives bp train's model.
check_logged "train --from-counts: the pieces of the limited segment" \
    "$BP" train -q --from-counts "$T/segment.limited" --vocab-size $VOCAB -o "$T/staged.model"
check "train --from-counts: the model of bp train" cmp -s "$T/staged.model" "$T/train.plain"

# bp merge streams already: the option is accepted, and the sum is the same.
run merge --memory-limit 1M -o "$T/merged" "$T/segment.plain" "$T/segment.limited"
check "merge --memory-limit: exit 0" [ "$status" -eq 0 ]
run merge -o "$T/merged.plain" "$T/segment.plain" "$T/segment.limited"
check "merge --memory-limit: the same sum" cmp -s "$T/merged" "$T/merged.plain"

# A run that fails after spilling leaves nothing behind.
run train --vocab-size $VOCAB --memory-limit 1M --temp-dir "$T/tmp" -o "$T/no/such/dir/m" "$@"
check "a failing limited run exits 1" [ "$status" -eq 1 ]
check "a failing limited run leaves no run file" temp_dir_empty
run count --memory-limit 1M --temp-dir "$T/no-such-dir" -o "$T/c" "$@"
check "a missing --temp-dir: exit 1" [ "$status" -eq 1 ]
stderr_has "$T/no-such-dir" "a missing --temp-dir: the message names it"

# Bad SIZE values: usage errors.
for size in "" 0 1K 1023K 12X M -5M 1.5G 99999999999999999999 99999999999T; do
    for cmd in train count merge; do
        case $cmd in
        merge) expect_exit 2 "$cmd --memory-limit '$size': exit 2" merge -o "$T/x" \
            --memory-limit "$size" "$T/count.plain" ;;
        *) expect_exit 2 "$cmd --memory-limit '$size': exit 2" $cmd -o "$T/x" \
            --memory-limit "$size" "$DATA/hello.txt" ;;
        esac
        stderr_has "--memory-limit" "$cmd --memory-limit '$size': the message names the option"
    done
done
expect_exit 2 "segment --memory-limit 1k (lower case): exit 2" segment -n "$T/count.plain" \
    -o "$T/x" --memory-limit 1k "$DATA/hello.txt"
check "no output from refused runs" [ ! -e "$T/x" ]

finish
