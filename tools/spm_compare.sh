#!/bin/sh
# spm_compare.sh -- whole-process speed of `bp encode` against SentencePiece's `spm_encode`.
#
# Usage: tools/spm_compare.sh [-r RUNS] [-b BP] [-m BP_MODEL] [-s SPM_MODEL] [-a ALPHA] [TEXT]
#   TEXT       the text to encode, plain or .zst (default ../shared/corpus/bench_mix.txt.zst)
#   -r RUNS    runs per command, the median is used (default 5)
#   -b BP      the bp binary (default build/bp)
#   -m MODEL   the BytePiece model (default ../shared/reference/models/bytepiece.plus.80k.model.zst,
#              converted to the native format first, as a user would deploy it)
#   -s MODEL   the SentencePiece model (default ../shared/peers/sp_unigram32k.model)
#   -a ALPHA   sampling alpha for both (default 0.1)
#
# Each command runs as a whole process, one thread, output to /dev/null, and its time is
# the median wall time on TEXT minus the median wall time of the same command on an empty
# file (model loading and what encoding needs to start). Commands:
#   bp encode -m MODEL [--alpha A --seed 1] TEXT
#   spm_encode --model=M --output_format=id TEXT
#   spm_encode --model=M --output_format=sample_id --nbest_size=-1 --alpha=A --random_seed=1 TEXT
# (nbest_size -1 samples from all segmentations, P(seg)^alpha / Z, like bp's --alpha).
# spm_encode never tokenizes '\n' and encodes line by line; bp encodes every line with its
# '\n'. Prints a table with MB/s (10^6 bytes of TEXT per second) and the ratio.
# Needs spm_encode (Debian: apt-get install sentencepiece) and zstd.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
shared=${BP_SHARED_DIR:-$here/../shared}
runs=5
bp=$here/build/bp
bp_model=$shared/reference/models/bytepiece.plus.80k.model.zst
spm_model=$shared/peers/sp_unigram32k.model
alpha=0.1
while getopts r:b:m:s:a: opt; do
    case $opt in
    r) runs=$OPTARG ;;
    b) bp=$OPTARG ;;
    m) bp_model=$OPTARG ;;
    s) spm_model=$OPTARG ;;
    a) alpha=$OPTARG ;;
    *) sed -n '3,10p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
text=${1:-$shared/corpus/bench_mix.txt.zst}

command -v spm_encode >/dev/null || { echo "spm_compare.sh: spm_encode not found (apt-get install sentencepiece)" >&2; exit 1; }
[ -x "$bp" ] || { echo "spm_compare.sh: $bp not found (build first)" >&2; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM
case $text in
*.zst) zstd -q -d -c "$text" >"$T/text" ;;
*) cp "$text" "$T/text" ;;
esac
: >"$T/empty"
"$bp" convert "$bp_model" "$T/model.bpm"
bytes=$(wc -c <"$T/text")

now_ns() { date +%s%N; }

# median_ns FILE CMD...: median wall time in ns of RUNS runs of CMD FILE (output dropped).
median_ns() {
    file=$1
    shift
    : >"$T/times"
    i=0
    while [ $i -lt "$runs" ]; do
        start=$(now_ns)
        "$@" "$file" >/dev/null
        end=$(now_ns)
        echo $((end - start)) >>"$T/times"
        i=$((i + 1))
    done
    sort -n "$T/times" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# measure CMD...: "ns-on-TEXT ns-on-empty-file" (medians).
measure() {
    full=$(median_ns "$T/text" "$@")
    base=$(median_ns "$T/empty" "$@")
    echo "$full $base"
}

bp_det=$(measure "$bp" encode -m "$T/model.bpm")
bp_smp=$(measure "$bp" encode -m "$T/model.bpm" --alpha "$alpha" --seed 1)
spm_det=$(measure spm_encode --model="$spm_model" --output_format=id)
spm_smp=$(measure spm_encode --model="$spm_model" --output_format=sample_id --nbest_size=-1 \
    --alpha="$alpha" --random_seed=1)

echo "text: $text ($bytes bytes), median of $runs runs, net of the same command on an empty file"
echo "bp: $("$bp" --version | head -n 1), model $(basename "$bp_model") (native); spm_encode: $(basename "$spm_model")"
echo
printf '%-22s %14s %14s %14s %14s %8s\n' mode "bp MB/s" "spm MB/s" "bp start ms" "spm start ms" ratio
print_row() {
    awk -v label="$1" -v bf="$2" -v bb="$3" -v sf="$4" -v sb="$5" -v bytes="$bytes" 'BEGIN {
        bp = bytes / 1e6 / ((bf - bb) / 1e9); spm = bytes / 1e6 / ((sf - sb) / 1e9)
        printf "%-22s %14.1f %14.1f %14.1f %14.1f %7.1fx\n", label, bp, spm, bb / 1e6, sb / 1e6, bp / spm }'
}
# shellcheck disable=SC2086
print_row deterministic $bp_det $spm_det
# shellcheck disable=SC2086
print_row "sampling alpha=$alpha" $bp_smp $spm_smp
