#!/bin/sh
# threads_bench.sh -- how `bp encode --threads N` scales against one thread, for lines and for
# JSONL documents, and that the outputs are identical.
#
# Usage: tools/threads_bench.sh [-r RUNS] [-t N] [-b BP] [-m MODEL] [TEXT]
#   TEXT       the text, plain or .zst (default ../shared/corpus/bench_mix.txt.zst)
#   -r RUNS    pairs of runs (1 thread, then N), the median ratio is used (default 5)
#   -t N       threads to compare with one (default 2)
#   -b BP      the bp binary (default build/bp)
#   -m MODEL   the model (default ../shared/reference/models/bytepiece.plus.80k.model.zst),
#              converted to the native format first
#
# Inputs: TEXT as lines (`bp encode FILE`, ids) and as one JSONL record per line
# ({"text": LINE with its newline}; `--input-format jsonl --output-format u32`). Each command
# is a whole process writing to /dev/null; runs of 1 and N threads alternate so that a change
# in the machine's load hits both. Prints the median time of each and the median of the
# per-pair ratios. Needs zstd for a .zst TEXT.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bench_lib.sh
. "$here/tools/bench_lib.sh"
encode_bench_setup 5 2 "$@" # the defaults of RUNS and N
# JSON strings escape backslash, quote, tab and CR; other control bytes become spaces; the
# newline goes back in as \n.
LC_ALL=C tr '\001-\010\013\014\016-\037' ' ' <"$tmp/text.txt" |
    LC_ALL=C sed 's/\\/\\\\/g; s/"/\\"/g; s/\t/\\t/g; s/\r/\\r/g; s/^/{"text": "/; s/$/\\n"}/' \
    >"$tmp/text.jsonl"

# time_pair ROUND FILE ARGS...: bp encode ARGS FILE with 1 thread, then N, each run's
# times a line "ROUND THREADS START END" of $tmp/times.
time_pair() {
    round=$1
    file=$2
    shift 2
    for t in 1 "$threads"; do
        start=$(now)
        "$bp" encode -m "$tmp/model.bpm" --threads "$t" "$@" "$file" >/dev/null
        end=$(now)
        echo "$round $t $start $end" >>"$tmp/times"
    done
}

# measure NAME FILE ARGS...: RUNS pairs; prints one table row.
measure() {
    name=$1
    file=$2
    shift 2
    "$bp" encode -m "$tmp/model.bpm" --threads 1 "$@" "$file" | cksum >"$tmp/sum1"
    "$bp" encode -m "$tmp/model.bpm" --threads "$threads" "$@" "$file" | cksum >"$tmp/sumn"
    same=yes
    cmp -s "$tmp/sum1" "$tmp/sumn" || same=NO
    : >"$tmp/times"
    bench_rounds "$runs" time_pair "$file" "$@"
    awk -v name="$name" -v n="$threads" -v same="$same" -v mb="$(wc -c <"$file")" '
        function median(a, k,   i, j, t) {
            for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
        }
        { d = $4 - $3; if ($2 == 1) one[$1 + 1] = d; else many[$1 + 1] = d; k = $1 + 1 }
        END {
            for (i = 1; i <= k; i++) { r[i] = one[i] / many[i]; o[i] = one[i]; m[i] = many[i] }
            t1 = median(o, k); tn = median(m, k)
            printf "| %s | %.1f MB | %.2f s | %.2f s | %.2fx | %s |\n", name, mb / 1e6, t1, tn, median(r, k), same
        }' "$tmp/times"
}

echo "| input | size | 1 thread | $threads threads | speed-up (median of $runs pairs) | same output |"
echo "|---|---|---|---|---|---|"
measure "lines, ids" "$tmp/text.txt"
measure "JSONL records, u32" "$tmp/text.jsonl" --input-format jsonl --output-format u32
