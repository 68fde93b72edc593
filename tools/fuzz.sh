#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan + coverage) and runs each
# for a fixed time. Used for the CI smoke run (tools/test.sh) and for long runs.
#
# Usage: tools/fuzz.sh [TARGET|all] [SECONDS]     (default: all 60)
#        tools/fuzz.sh totals                      executions recorded so far, per target
# TARGET is one of the targets named in $all below (the "fuzz_" may be left out). Each run
# starts from the seed corpus tests/fuzz/corpus/TARGET plus what
# earlier runs found in BUILD/corpus/TARGET (kept between runs, so long runs accumulate).
# A finding (crash, failed check, leak, timeout, memory blow-up) stops the run: the input
# is saved under BUILD/artifacts/TARGET/, the log under BUILD/logs/, and the exit status
# is 1. Every run appends a line to BUILD/fuzz-runs.tsv:
#   date, target, seconds, executions, result (clean, interrupted (SIGINT) or finding)
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_ARGS (more libFuzzer flags),
# CC (default clang).
set -eu
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz}
all="fuzz_model_load fuzz_encode fuzz_decode fuzz_train fuzz_text_input fuzz_nbest fuzz_special"
all="$all fuzz_stream_decode fuzz_prefix fuzz_megatron_index fuzz_counts"
what=${1:-all}
seconds=${2:-60}

if [ "$what" = totals ]; then
    [ -f "$build/fuzz-runs.tsv" ] || { echo "no runs recorded in $build/fuzz-runs.tsv"; exit 0; }
    awk -F '\t' '{ n[$2] += $4; s[$2] += $3; r[$2]++; if ($5 == "finding") f[$2]++ }
        END { for (t in n) printf "%-16s %12d executions in %6d s over %d runs, %d with a finding\n",
                                   t, n[t], s[t], r[t], f[t] + 0 }' "$build/fuzz-runs.tsv" | sort
    exit 0
fi

case $what in
all) targets=$all ;;
fuzz_*) targets=$what ;;
*) targets=fuzz_$what ;;
esac
for t in $targets; do
    case " $all " in *" $t "*) ;; *) echo "fuzz.sh: unknown target '$t' (one of: $all)" >&2; exit 2 ;; esac
done
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a number" >&2; exit 2 ;; esac

cc=${CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz.sh: $cc not found (tools/install-deps.sh --dev installs clang)" >&2
    exit 1
fi
cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBP_FUZZ=ON \
      -DBP_BUILD_TESTS=OFF -DBP_WERROR=ON >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target $targets >/dev/null

status=0
for t in $targets; do
    corpus=$build/corpus/$t
    artifacts=$build/artifacts/$t
    log=$build/logs/$t.log
    mkdir -p "$corpus" "$artifacts" "$build/logs"
    # fuzz_train allocates and frees a whole trainer per input: with ASan's default 256 MB
    # quarantine nearly every allocation lands on fresh pages, which costs a third of the
    # run; 16 MB still catches a use after free within the same input.
    quarantine=
    case $t in
    fuzz_model_load) max_len=32768 ;;
    fuzz_encode | fuzz_nbest) max_len=512 ;;
    fuzz_train) max_len=2048 quarantine=quarantine_size_mb=16 ;;
    *) max_len=4096 ;;
    esac
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    started=$(date +%s)
    set +e
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-$quarantine} "$build/fuzz/$t" "$corpus" "tests/fuzz/corpus/$t" $dict -max_total_time="$seconds" \
        -max_len="$max_len" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$(($(date +%s) - started))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
    [ -n "$execs" ] || execs=0
    if [ "$rc" -eq 0 ]; then
        result=clean
        echo "$t: $execs executions in ${elapsed} s, no finding"
    elif [ "$rc" -eq 72 ]; then # libFuzzer's exit status when stopped by SIGINT
        result=interrupted
        echo "$t: interrupted after $execs executions, no finding"
    else
        result=finding
        status=1
        echo "$t: FINDING after $execs executions (exit $rc); input in $artifacts/, log $log:" >&2
        grep -E 'ERROR|check failed|WARNING|SUMMARY|returned' "$log" | head -20 >&2 || true
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$t" "$elapsed" "$execs" \
        "$result" >>"$build/fuzz-runs.tsv"
done
exit $status
