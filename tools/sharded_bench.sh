#!/bin/sh
# sharded_bench.sh -- one `bp train` against the same training in stages on shards
# (bp count on each shard, bp merge --prune, bp segment on each shard, bp merge, bp train
# --from-counts), side by side: wall time, peak memory, and whether the models are the
# same bytes.
#
# Usage: tools/sharded_bench.sh [-r RUNS] [-s SHARDS] [-j JOBS] [-b BP] [-o OPTIONS] CORPUS
#   CORPUS      a text file, plain or .zst; it is cut at line ends into SHARDS files, and
#               both ways train on those files (each file one text)
#   -r RUNS     runs of each way, alternating which goes first; medians are printed (3)
#   -s SHARDS   shards (default 8)
#   -j JOBS     shards processed at once by the staged way, with xargs -P (default 2)
#   -b BP       the bp measured (default build/bp)
#   -o OPTIONS  training options (default "--vocab-size 32000 --min-count 16", the
#               issue's figures)
#
# Wall time is of the whole way (for the stages: every command, JOBS at a time). Peak
# memory is that of the largest process (/usr/bin/time's maximum resident set); with JOBS
# shards at once the machine holds up to JOBS such processes. A busy machine varies the
# wall time most: compare medians of alternated runs.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bench_lib.sh
. "$here/tools/bench_lib.sh"
runs=3
shards=8
jobs=2
bp=$here/build/bp
opts="--vocab-size 32000 --min-count 16"
bench_options "r:runs s:shards j:jobs b:bp o:opts" "$@"
shift $((OPTIND - 1))
bench_corpus "tools/sharded_bench.sh [-r RUNS] [-s SHARDS] [-j JOBS] [-b BP] [-o OPTIONS] CORPUS" "$@"

bench_tmpdir
mkdir "$tmp/shards"
bench_text "$corpus" "$tmp/corpus.txt"
split -n "l/$shards" -d -a 3 "$tmp/corpus.txt" "$tmp/shards/part."
rm "$tmp/corpus.txt"

# The options that shape the counts go to bp count; --vocab-size to the last step.
# shellcheck disable=SC2086 # opts is a list of options
count_opts=$(printf '%s\n' $opts | awk '/^--vocab-size$/ {skip = 1; next} skip {skip = 0; next} {printf "%s ", $0}')
# shellcheck disable=SC2086
vocab=$(printf '%s\n' $opts | awk 'prev == "--vocab-size" {print} {prev = $0}')

single() {
    # shellcheck disable=SC2086 # opts is a list of options
    timed "$tmp/single.log" "$bp" train -q $opts -o "$tmp/single.model" "$tmp"/shards/part.*
}

staged() {
    log=$tmp/stages.log
    : >"$log"
    start=$(now)
    export here bp tmp log count_opts
    # shellcheck disable=SC2016 # expanded by the inner shell
    printf '%s\n' "$tmp"/shards/part.* | xargs -P "$jobs" -I{} sh -c \
        '. "$here/tools/bench_lib.sh"; timed "$log" "$bp" count -q $count_opts -o "{}.counts" "{}"'
    timed "$log" "$bp" merge -q --prune -o "$tmp/ngrams" "$tmp"/shards/*.counts
    # shellcheck disable=SC2016
    printf '%s\n' "$tmp"/shards/part.??? | xargs -P "$jobs" -I{} sh -c \
        '. "$here/tools/bench_lib.sh"; timed "$log" "$bp" segment -q -n "$tmp/ngrams" -o "{}.pieces" "{}"'
    timed "$log" "$bp" merge -q -o "$tmp/pieces" "$tmp"/shards/*.pieces
    timed "$log" "$bp" train -q --from-counts "$tmp/pieces" --vocab-size "$vocab" -o "$tmp/staged.model"
    end=$(now)
    peak=$(awk '$2 > m {m = $2} END {print m}' "$log")
    echo "$(awk "BEGIN {printf \"%.2f\", $end - $start}") $peak" >>"$tmp/staged.log"
    rm -f "$tmp"/shards/*.counts "$tmp"/shards/*.pieces
}

: >"$tmp/single.log"
: >"$tmp/staged.log"
bench_alternate "$runs" single staged

mb=$(du -m "$tmp/shards" | cut -f1)
echo "corpus: $corpus (${mb} MB in $shards shard files); options: $opts; $runs runs each, medians"
printf '%-52s %10s %12s\n' "" "wall s" "peak MB"
printf '%-52s %10s %12d\n' "bp train (one process)" "$(median 1 "$tmp/single.log")" \
    "$(($(median 2 "$tmp/single.log") / 1024))"
printf '%-52s %10s %12d\n' "count x$shards, merge, segment x$shards, merge, train ($jobs jobs)" \
    "$(median 1 "$tmp/staged.log")" "$(($(median 2 "$tmp/staged.log") / 1024))"
echo "same model: $same"
