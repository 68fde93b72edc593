# bench_lib.sh -- what the benchmark scripts under tools/ share: reading their options,
# the scratch directory, the input text, timing, the order of the runs and medians. Sourced
# (POSIX sh) by a script that has set `here`, the repository's root:
#     here=$(cd "$(dirname "$0")/.." && pwd)
#     . "$here/tools/bench_lib.sh"
# It only defines functions. The variables they keep for themselves are named bench_*, so
# as not to clobber the caller's; the others are their documented results.
# shellcheck shell=sh disable=SC2034 # the results are read by the caller

# bench_options "LETTER:VARIABLE ..." ARGS...: reads the options at the front of ARGS, each
# -LETTER VALUE setting VARIABLE (whose default the caller has set). An unknown option, or
# one without its value, exits 2 after getopts' message. `shift $((OPTIND - 1))` then
# leaves the operands.
bench_options() {
    bench_spec=$1
    shift
    bench_letters=
    for bench_pair in $bench_spec; do
        bench_letters=$bench_letters${bench_pair%%:*}:
    done
    while getopts "$bench_letters" bench_letter "$@"; do
        [ "$bench_letter" != "?" ] || exit 2
        for bench_pair in $bench_spec; do
            case $bench_pair in
            "$bench_letter":*) eval "${bench_pair#*:}=\$OPTARG" ;;
            esac
        done
    done
}

# bench_corpus USAGE OPERAND...: the one operand, a file, into $corpus. Another count of
# operands prints "usage: USAGE" and exits 2; a corpus that is no file exits 1.
bench_corpus() {
    bench_usage=$1
    shift
    [ $# -eq 1 ] || { echo "usage: $bench_usage" >&2; exit 2; }
    corpus=$1
    [ -f "$corpus" ] || { echo "${0##*/}: $corpus: no such file" >&2; exit 1; }
}

# bench_tmpdir: makes the scratch directory $tmp, removed when the script exits.
bench_tmpdir() {
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
}

# bench_text SOURCE DEST [link]: DEST holds the text of SOURCE: a .zst SOURCE decompressed
# (needs zstd), a plain one copied or, with `link`, linked to (a symbolic link to its
# absolute path, so that a large corpus is not copied).
bench_text() {
    case $1 in
    *.zst) zstd -q -d -c "$1" >"$2" ;;
    *)
        if [ "${3:-}" = link ]; then
            ln -s "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" "$2"
        else
            cp "$1" "$2"
        fi
        ;;
    esac
}

# encode_bench_setup RUNS N ARGS...: the start of the benchmarks of bp encode. Reads
# [-r RUNS] [-t N] [-b BP] [-m MODEL] [TEXT] from ARGS into runs and threads (defaults RUNS
# and N), bp (default build/bp), model (default the reference 80k model) and text (default
# ../shared/corpus/bench_mix.txt.zst, or under $BP_SHARED_DIR), then makes $tmp with the
# model in the native format in $tmp/model.bpm and the text in $tmp/text.txt.
encode_bench_setup() {
    runs=$1
    threads=$2
    shift 2
    bench_shared=${BP_SHARED_DIR:-$here/../shared}
    bp=$here/build/bp
    model=$bench_shared/reference/models/bytepiece.plus.80k.model.zst
    bench_options "r:runs t:threads b:bp m:model" "$@"
    shift $((OPTIND - 1))
    text=${1:-$bench_shared/corpus/bench_mix.txt.zst}
    bench_tmpdir
    "$bp" convert "$model" "$tmp/model.bpm"
    bench_text "$text" "$tmp/text.txt"
}

# now: the wall clock, in seconds with nanoseconds.
now() {
    date +%s.%N
}

# timed LOG COMMAND...: runs COMMAND, appending "wall_seconds peak_kB" to LOG (the
# elapsed time and maximum resident set of /usr/bin/time).
timed() {
    bench_log=$1
    shift
    /usr/bin/time -a -o "$bench_log" -f "%e %M" "$@"
}

# bench_rounds RUNS COMMAND [ARG...]: runs `COMMAND ROUND ARG...` for ROUND = 0 .. RUNS - 1.
bench_rounds() {
    bench_runs=$1
    bench_command=$2
    shift 2
    bench_round=0
    while [ "$bench_round" -lt "$bench_runs" ]; do
        "$bench_command" "$bench_round" "$@"
        bench_round=$((bench_round + 1))
    done
}

# bench_alternate RUNS FIRST SECOND: RUNS rounds of the commands FIRST and SECOND, FIRST
# going first in even rounds and SECOND in odd ones, so that a change in the machine's
# load hits both. Each writes the model $tmp/NAME.model (NAME the command); $same says
# whether the two were the same bytes in every round (yes or no).
bench_alternate() {
    bench_first=$2
    bench_second=$3
    same=yes
    bench_rounds "$1" bench_alternate_round
}

bench_alternate_round() {
    if [ $(($1 % 2)) -eq 0 ]; then
        "$bench_first"
        "$bench_second"
    else
        "$bench_second"
        "$bench_first"
    fi
    cmp -s "$tmp/$bench_first.model" "$tmp/$bench_second.model" || same=no
}

# median COLUMN LOG: the median of column COLUMN (space-separated) of LOG; of an even
# count, the lower middle value, so that a column of integers gives an integer.
median() {
    cut -d' ' -f"$1" "$2" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
