#!/bin/sh
# memlimit_bench.sh -- `bp train` without and with --memory-limit, side by side: wall time,
# peak memory, what the limited run spilled, and whether the models are the same bytes.
#
# Usage: tools/memlimit_bench.sh [-r RUNS] [-l SIZE] [-b BP] [-o OPTIONS] [-t DIR] CORPUS
#   CORPUS      a text file, plain or .zst (decompressed first, so that both ways read
#               the same plain file)
#   -r RUNS     runs of each way, alternating which goes first; medians are printed (3)
#   -l SIZE     the limit (default 256M)
#   -b BP       the bp measured (default build/bp)
#   -o OPTIONS  training options (default "--vocab-size 32000 --min-count 16", the
#               issue's figures)
#   -t DIR      --temp-dir of both ways (default $TMPDIR, else /tmp)
#
# Peak memory is /usr/bin/time's maximum resident set. A busy machine varies the wall
# time most: compare medians of alternated runs.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bench_lib.sh
. "$here/tools/bench_lib.sh"
runs=3
limit=256M
bp=$here/build/bp
opts="--vocab-size 32000 --min-count 16"
temp_dir=${TMPDIR:-/tmp}
bench_options "r:runs l:limit b:bp o:opts t:temp_dir" "$@"
shift $((OPTIND - 1))
bench_corpus "tools/memlimit_bench.sh [-r RUNS] [-l SIZE] [-b BP] [-o OPTIONS] [-t DIR] CORPUS" "$@"

bench_tmpdir
bench_text "$corpus" "$tmp/corpus.txt" link

# train NAME [OPTION...]: one bp train, appending "wall_seconds peak_kB" to NAME.log and
# its summary line to NAME.summary.
train() {
    name=$1
    shift
    # shellcheck disable=SC2086 # opts is a list of options
    timed "$tmp/$name.log" "$bp" train $opts --temp-dir "$temp_dir" "$@" -o "$tmp/$name.model" \
        "$tmp/corpus.txt" 2>>"$tmp/$name.summary"
}

plain() { train plain; }
limited() { train limited --memory-limit "$limit"; }

: >"$tmp/plain.log"
: >"$tmp/limited.log"
bench_alternate "$runs" plain limited

mb=$(($(wc -c <"$tmp/corpus.txt") / 1000000))
spilled=$(grep -o 'spilled [^;]*' "$tmp/limited.summary" | tail -n 1)
echo "corpus: $corpus (${mb} MB); options: $opts; $runs runs each, medians"
printf '%-40s %10s %12s\n' "" "wall s" "peak MB"
printf '%-40s %10s %12d\n' "bp train" "$(median 1 "$tmp/plain.log")" \
    "$(($(median 2 "$tmp/plain.log") / 1024))"
printf '%-40s %10s %12d\n' "bp train --memory-limit $limit" "$(median 1 "$tmp/limited.log")" \
    "$(($(median 2 "$tmp/limited.log") / 1024))"
echo "limited run: ${spilled:-spilled nothing}"
echo "same model: $same"
