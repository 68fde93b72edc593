#!/bin/sh
# marks_bench.sh -- `bp encode` on text made of long runs of combining marks, whose NFC must
# reorder them, against ordinary text, --no-normalize and spm_encode on the same inputs.
#
# Usage: tools/marks_bench.sh [-r RUNS] [-z MB] [-b BP] [-o OLD_BP] [-m MODEL] [-s SPM_MODEL]
#   -r RUNS    runs per command, the median is used (default 3)
#   -z MB      size of the large inputs in 10^6 bytes (default 20)
#   -b BP      the bp binary (default build/bp)
#   -o OLD_BP  also time this bp (a build from before a change) and compare its output, on
#              the two small inputs only and one run each: a quadratic NFC takes minutes there
#   -m MODEL   the BytePiece model (default ../shared/reference/models/bytepiece.plus.80k.model.zst,
#              converted to the native format first)
#   -s MODEL   the SentencePiece model (default ../shared/peers/sp_unigram32k.model)
#
# Inputs, U+0301 being of combining class 230 and U+0316 of class 220, so that every run of
# marks is out of canonical order:
#   text          the first MB of ../shared/corpus/bench_mix.txt.zst, ordinary text
#   runs of 2     lines of 10 x ('a' U+0301 U+0316 ' ')
#   runs of 9     lines of 10 x ('a' + 5 x U+0301 and 4 x U+0316 alternating + ' ')
#   40 KB lines   lines of 'a' + 10000 x U+0301 + 10000 x U+0316
#   one line      'a' + N x U+0301 + N x U+0316 + '\n', MB in all
#   80 KB, 320 KB 'a' + N x U+0301 + N x U+0316 with N = 20000 and 80000, no newline: the
#                 document of the report, given as many times as fit in MB (one text each)
# Each command is a whole process with its output to /dev/null, timed by CPU time (user +
# system, which other processes on a shared machine disturb less than wall time) net of
# the same command on an empty file (model loading). Prints ns per byte of input for each
# command and bp's ns per byte over that on ordinary text. Needs zstd and spm_encode
# (Debian: apt-get install sentencepiece).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
shared=${BP_SHARED_DIR:-$here/../shared}
runs=3
mb=20
bp=$here/build/bp
old=
bp_model=$shared/reference/models/bytepiece.plus.80k.model.zst
spm_model=$shared/peers/sp_unigram32k.model
while getopts r:z:b:o:m:s: opt; do
    case $opt in
    r) runs=$OPTARG ;;
    z) mb=$OPTARG ;;
    b) bp=$OPTARG ;;
    o) old=$OPTARG ;;
    m) bp_model=$OPTARG ;;
    s) spm_model=$OPTARG ;;
    *) sed -n '4,13p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { sed -n '4,13p' "$0" >&2; exit 2; }
command -v spm_encode >/dev/null || { echo "marks_bench.sh: spm_encode not found (apt-get install sentencepiece)" >&2; exit 1; }
[ -x "$bp" ] || { echo "marks_bench.sh: $bp not found (build first)" >&2; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM
size=$((mb * 1000000))
"$bp" convert "$bp_model" "$T/model.bpm"
: >"$T/empty"

# repeat FILE BYTES: FILE over and over, cut to BYTES.
repeat() {
    cp "$1" "$T/rep"
    while [ "$(wc -c <"$T/rep")" -lt "$2" ]; do
        cat "$T/rep" "$T/rep" >"$T/rep2"
        mv "$T/rep2" "$T/rep"
    done
    head -c "$2" "$T/rep"
}

# whole_lines FILE BYTES: as many whole copies of FILE as fit in BYTES.
whole_lines() {
    unit=$(wc -c <"$1")
    repeat "$1" $((($2 / unit) * unit))
}

acute='\314\201'  # U+0301
grave_below='\314\226' # U+0316
printf "$acute" >"$T/acute"
printf "$grave_below" >"$T/below"

# marks_doc N: 'a' + N x U+0301 + N x U+0316.
marks_doc() {
    printf a
    repeat "$T/acute" $((2 * $1))
    repeat "$T/below" $((2 * $1))
}

zstd -q -d -c "$shared/corpus/bench_mix.txt.zst" | head -c "$size" >"$T/text"
printf "a$acute$grave_below " >"$T/w2"
printf "a$acute$grave_below$acute$grave_below$acute$grave_below$acute$grave_below$acute " >"$T/w9"
for w in w2 w9; do
    repeat "$T/$w" $((10 * $(wc -c <"$T/$w"))) >"$T/line"
    echo >>"$T/line"
    whole_lines "$T/line" "$size" >"$T/$w.txt"
done
{ marks_doc 10000; echo; } >"$T/line"
whole_lines "$T/line" "$size" >"$T/long.txt"
{ marks_doc $(((size - 2) / 4)); echo; } >"$T/one.txt"
marks_doc 20000 >"$T/doc80.txt"
marks_doc 80000 >"$T/doc320.txt"

# cmd NAME FILE...: the commands compared.
cmd() {
    which=$1
    shift
    case $which in
    bp) "$bp" encode -m "$T/model.bpm" "$@" ;;
    raw) "$bp" encode -m "$T/model.bpm" --no-normalize "$@" ;;
    spm) spm_encode --model="$spm_model" --output_format=id "$@" ;;
    old) "$old" encode -m "$T/model.bpm" "$@" ;;
    esac
}

# cpu_ns OUT NAME FILE...: CPU time of one run of the command, in ns, its output to OUT.
cpu_ns() {
    out=$1
    shift
    (cmd "$@" >"$out" && times >"$T/times") || { echo "marks_bench.sh: $1 failed on $2" >&2; exit 1; }
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
                   printf "%.0f\n", t * 1e9 }' "$T/times"
}

median() {
    sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# ns_per_byte NAME N FILE...: median over N runs, alternating with the empty file, of the
# net CPU time per byte. The output of the runs on FILE... goes to $keep.
keep=/dev/null
ns_per_byte() {
    which=$1
    n_runs=$2
    shift 2
    : >"$T/full"
    : >"$T/base"
    i=0
    while [ $i -lt "$n_runs" ]; do
        cpu_ns "$keep" "$which" "$@" >>"$T/full"
        cpu_ns /dev/null "$which" "$T/empty" >>"$T/base"
        i=$((i + 1))
    done
    awk -v f="$(median "$T/full")" -v b="$(median "$T/base")" -v n="$(cat "$@" | wc -c)" \
        'BEGIN { printf "%.1f", (f - b) / n }'
}

echo "bp: $("$bp" --version | head -n 1), model $(basename "$bp_model") (native); spm_encode: $(basename "$spm_model")"
echo "CPU ns per byte of input, median of $runs runs, net of the same command on an empty file"
echo
header="| input | size | bp | bp --no-normalize | spm_encode | bp vs text |"
rule="|---|---|---|---|---|---|"
if [ -n "$old" ]; then
    header="$header OLD_BP (1 run) | same ids |"
    rule="$rule---|---|"
fi
echo "$header"
echo "$rule"
text_ns=
for input in text:text w2.txt:"runs of 2" w9.txt:"runs of 9" long.txt:"40 KB lines" \
    one.txt:"one line" doc80.txt:"80 KB document" doc320.txt:"320 KB document"; do
    file=$T/${input%%:*}
    label=${input#*:}
    copies=$((size / $(wc -c <"$file")))
    [ "$copies" -ge 1 ] || copies=1
    set --
    while [ $# -lt "$copies" ]; do set -- "$@" "$file"; done
    bp_ns=$(ns_per_byte bp "$runs" "$@")
    [ -n "$text_ns" ] || text_ns=$bp_ns
    row="| $label | $(cat "$@" | wc -c | awk '{ printf "%.2f MB", $1 / 1e6 }')"
    [ "$copies" -eq 1 ] || row="$row ($copies files)"
    row="$row | $bp_ns | $(ns_per_byte raw "$runs" "$@") | $(ns_per_byte spm "$runs" "$@")"
    row="$row | $(awk -v a="$bp_ns" -v b="$text_ns" 'BEGIN { printf "%.2fx", a / b }') |"
    if [ -n "$old" ]; then
        case $label in
        *document)
            keep=$T/out
            old_ns=$(ns_per_byte old 1 "$file")
            keep=/dev/null
            same=yes
            cmd bp "$file" | cmp -s - "$T/out" || same=NO
            row="$row $old_ns | $same |" ;;
        *) row="$row - | - |" ;;
        esac
    fi
    echo "$row"
done
