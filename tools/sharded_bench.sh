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
runs=3
shards=8
jobs=2
bp=$here/build/bp
opts="--vocab-size 32000 --min-count 16"
while getopts r:s:j:b:o: opt; do
    case $opt in
    r) runs=$OPTARG ;;
    s) shards=$OPTARG ;;
    j) jobs=$OPTARG ;;
    b) bp=$OPTARG ;;
    o) opts=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: tools/sharded_bench.sh [-r RUNS] [-s SHARDS] [-j JOBS] [-b BP] [-o OPTIONS] CORPUS" >&2; exit 2; }
corpus=$1
[ -f "$corpus" ] || { echo "sharded_bench.sh: $corpus: no such file" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/shards"
case $corpus in
*.zst) zstd -q -d -c "$corpus" >"$tmp/corpus.txt" ;;
*) cp "$corpus" "$tmp/corpus.txt" ;;
esac
split -n "l/$shards" -d -a 3 "$tmp/corpus.txt" "$tmp/shards/part."
rm "$tmp/corpus.txt"

# The options that shape the counts go to bp count; --vocab-size to the last step.
count_opts=$(printf '%s\n' $opts | awk '/^--vocab-size$/ {skip = 1; next} skip {skip = 0; next} {printf "%s ", $0}')
vocab=$(printf '%s\n' $opts | awk 'prev == "--vocab-size" {print} {prev = $0}')

# timed LOG COMMAND...: runs COMMAND, appending "wall_seconds peak_kB" to LOG.
timed() {
    log=$1
    shift
    /usr/bin/time -a -o "$log" -f "%e %M" "$@"
}

single() {
    # shellcheck disable=SC2086 # opts is a list of options
    timed "$tmp/single.log" "$bp" train -q $opts -o "$tmp/single.model" "$tmp"/shards/part.*
}

staged() {
    log=$tmp/stages.log
    : >"$log"
    start=$(date +%s.%N)
    export bp tmp log count_opts
    # shellcheck disable=SC2016 # expanded by the inner shell
    ls "$tmp"/shards/part.* | xargs -P "$jobs" -I{} sh -c \
        '/usr/bin/time -a -o "$log" -f "%e %M" "$bp" count -q $count_opts -o "{}.counts" "{}"'
    timed "$log" "$bp" merge -q --prune -o "$tmp/ngrams" "$tmp"/shards/*.counts
    # shellcheck disable=SC2016
    ls "$tmp"/shards/part.??? | xargs -P "$jobs" -I{} sh -c \
        '/usr/bin/time -a -o "$log" -f "%e %M" "$bp" segment -q -n "$tmp/ngrams" -o "{}.pieces" "{}"'
    timed "$log" "$bp" merge -q -o "$tmp/pieces" "$tmp"/shards/*.pieces
    timed "$log" "$bp" train -q --from-counts "$tmp/pieces" --vocab-size "$vocab" -o "$tmp/staged.model"
    end=$(date +%s.%N)
    peak=$(awk '$2 > m {m = $2} END {print m}' "$log")
    echo "$(awk "BEGIN {printf \"%.2f\", $end - $start}") $peak" >>"$tmp/staged.log"
    rm -f "$tmp"/shards/*.counts "$tmp"/shards/*.pieces
}

: >"$tmp/single.log"
: >"$tmp/staged.log"
same=yes
r=0
while [ "$r" -lt "$runs" ]; do
    if [ $((r % 2)) -eq 0 ]; then single; staged; else staged; single; fi
    cmp -s "$tmp/single.model" "$tmp/staged.model" || same=no
    r=$((r + 1))
done

# median COLUMN LOG
median() {
    cut -d' ' -f"$1" "$2" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
mb=$(du -m "$tmp/shards" | cut -f1)
echo "corpus: $corpus (${mb} MB in $shards shard files); options: $opts; $runs runs each, medians"
printf '%-52s %10s %12s\n' "" "wall s" "peak MB"
printf '%-52s %10s %12d\n' "bp train (one process)" "$(median 1 "$tmp/single.log")" \
    "$(($(median 2 "$tmp/single.log") / 1024))"
printf '%-52s %10s %12d\n' "count x$shards, merge, segment x$shards, merge, train ($jobs jobs)" \
    "$(median 1 "$tmp/staged.log")" "$(($(median 2 "$tmp/staged.log") / 1024))"
echo "same model: $same"
