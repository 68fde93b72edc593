#!/bin/sh
# spm_compare.sh -- whole-process speed of `bp encode` against SentencePiece's `spm_encode`.
#
# Usage: tools/spm_compare.sh [-r RUNS] [-b BP] [-m BP_MODEL] [-s SPM_MODEL] [-a ALPHA]
#                             [-k "K..."] [-c BYTES] [TEXT]
#   TEXT       the text to encode, plain or .zst (default ../shared/corpus/bench_mix.txt.zst)
#   -r RUNS    runs per command, the median is used (default 5)
#   -b BP      the bp binary (default build/bp)
#   -m MODEL   the BytePiece model (default ../shared/reference/models/bytepiece.plus.80k.model.zst,
#              converted to the native format first, as a user would deploy it)
#   -s MODEL   the SentencePiece model (default ../shared/peers/sp_unigram32k.model)
#   -a ALPHA   sampling alpha for both (default 0.1)
#   -k "K..."  also the K best segmentations of each line, for each K of the list
#   -c BYTES   only the whole lines of the first BYTES bytes of TEXT (n-best is slow in
#              SentencePiece: -c 1000000 keeps a run of -k "1 4 16" to minutes)
#
# Each command runs as a whole process, one thread, output to /dev/null, and its time is
# the median wall time on TEXT minus the median wall time of the same command on an empty
# file (model loading and what encoding needs to start). Commands:
#   bp encode -m MODEL [--alpha A --seed 1] TEXT
#   spm_encode --model=M --output_format=id TEXT
#   spm_encode --model=M --output_format=sample_id --nbest_size=-1 --alpha=A --random_seed=1 TEXT
# (nbest_size -1 samples from all segmentations, P(seg)^alpha / Z, like bp's --alpha).
# With -k, for each K:
#   bp encode -m MODEL --nbest K --output-format jsonl TEXT
#   spm_encode --model=M --output_format=nbest_id --nbest_size=K TEXT
# (SentencePiece's NBestEncode; bp also prints each segmentation's score).
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
nbest_sizes=
cut_bytes=0
while getopts r:b:m:s:a:k:c: opt; do
    case $opt in
    r) runs=$OPTARG ;;
    b) bp=$OPTARG ;;
    m) bp_model=$OPTARG ;;
    s) spm_model=$OPTARG ;;
    a) alpha=$OPTARG ;;
    k) nbest_sizes=$OPTARG ;;
    c) cut_bytes=$OPTARG ;;
    *) sed -n '3,14p' "$0" >&2; exit 2 ;;
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
if [ "$cut_bytes" -gt 0 ]; then
    head -c "$cut_bytes" "$T/text" | sed '$d' >"$T/cut"
    mv "$T/cut" "$T/text"
fi
: >"$T/empty"
"$bp" convert "$bp_model" "$T/model.bpm"
bytes=$(wc -c <"$T/text")

now_ns() { date +%s%N; }

# The four commands (file operand last).
cmd() {
    case $1 in
    bp_det) "$bp" encode -m "$T/model.bpm" "$2" ;;
    bp_smp) "$bp" encode -m "$T/model.bpm" --alpha "$alpha" --seed 1 "$2" ;;
    spm_det) spm_encode --model="$spm_model" --output_format=id "$2" ;;
    spm_smp) spm_encode --model="$spm_model" --output_format=sample_id --nbest_size=-1 \
        --alpha="$alpha" --random_seed=1 "$2" ;;
    bp_nb*) "$bp" encode -m "$T/model.bpm" --nbest "${1#bp_nb}" --output-format jsonl "$2" ;;
    spm_nb*) spm_encode --model="$spm_model" --output_format=nbest_id --nbest_size="${1#spm_nb}" \
        "$2" ;;
    esac
}

# Runs are interleaved (every command once per round), so that the machine's state, which
# varies on shared virtual machines, weighs on both tools alike.
modes="bp_det spm_det bp_smp spm_smp"
for k in $nbest_sizes; do modes="$modes bp_nb$k spm_nb$k"; done
for m in $modes; do : >"$T/$m.full"; : >"$T/$m.base"; done
i=0
while [ $i -lt "$runs" ]; do
    for m in $modes; do
        for which in full base; do
            file=$T/text
            [ $which = base ] && file=$T/empty
            start=$(now_ns)
            cmd "$m" "$file" >/dev/null
            end=$(now_ns)
            echo $((end - start)) >>"$T/$m.$which"
        done
    done
    i=$((i + 1))
done

median() {
    sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "text: $text ($bytes bytes), median of $runs runs, net of the same command on an empty file"
echo "bp: $("$bp" --version | head -n 1), model $(basename "$bp_model") (native); spm_encode: $(basename "$spm_model")"
echo
printf '%-22s %14s %14s %14s %14s %8s\n' mode "bp MB/s" "spm MB/s" "bp start ms" "spm start ms" ratio
print_row() {
    awk -v label="$1" -v bf="$2" -v bb="$3" -v sf="$4" -v sb="$5" -v bytes="$bytes" 'BEGIN {
        bp = bytes / 1e6 / ((bf - bb) / 1e9); spm = bytes / 1e6 / ((sf - sb) / 1e9)
        printf "%-22s %14.1f %14.1f %14.1f %14.1f %7.1fx\n", label, bp, spm, bb / 1e6, sb / 1e6, bp / spm }'
}
print_row deterministic "$(median "$T/bp_det.full")" "$(median "$T/bp_det.base")" \
    "$(median "$T/spm_det.full")" "$(median "$T/spm_det.base")"
print_row "sampling alpha=$alpha" "$(median "$T/bp_smp.full")" "$(median "$T/bp_smp.base")" \
    "$(median "$T/spm_smp.full")" "$(median "$T/spm_smp.base")"
for k in $nbest_sizes; do
    print_row "n-best k=$k" "$(median "$T/bp_nb$k.full")" "$(median "$T/bp_nb$k.base")" \
        "$(median "$T/spm_nb$k.full")" "$(median "$T/spm_nb$k.base")"
done
