#!/bin/sh
# megatron_bench.sh -- what writing a Megatron-LM dataset costs: `bp encode --output-format
# u32` against `--output-format megatron -o PREFIX` on the same text, side by side.
#
# Usage: tools/megatron_bench.sh [-r RUNS] [-t N] [-b BP] [-m MODEL] [TEXT]
#   TEXT       the text, plain or .zst (default ../shared/corpus/bench_mix.txt.zst),
#              decompressed into a temporary directory first
#   -r RUNS    pairs of runs, u32 then megatron (default 7)
#   -t N       --threads N for both (default 1)
#   -b BP      the bp binary (default build/bp)
#   -m MODEL   the model (default ../shared/reference/models/bytepiece.plus.80k.model.zst:
#              80k ids, so the dataset holds int32 ids, as many bytes as u32), converted to
#              the native format first
#
# Both write files into the temporary directory (u32 through a redirection, megatron its
# .bin and .idx). The two kinds of run alternate, so that a change in the machine's load
# hits both; the medians are printed, and the median of the per-pair ratios. The check
# line says whether PREFIX.bin is the u32 output byte for byte (it is when the dtype is
# int32). Needs zstd for a .zst TEXT.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
shared=${BP_SHARED_DIR:-$here/../shared}
runs=7
threads=1
bp=$here/build/bp
model=$shared/reference/models/bytepiece.plus.80k.model.zst
while getopts r:t:b:m: opt; do
    case $opt in
    r) runs=$OPTARG ;;
    t) threads=$OPTARG ;;
    b) bp=$OPTARG ;;
    m) model=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
text=${1:-$shared/corpus/bench_mix.txt.zst}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bp" convert "$model" "$tmp/model.bpm"
case $text in
*.zst) zstd -q -d -c "$text" >"$tmp/text.txt" ;;
*) cp "$text" "$tmp/text.txt" ;;
esac

encode() {
    "$bp" encode -m "$tmp/model.bpm" --threads "$threads" "$@" "$tmp/text.txt"
}

# seconds COMMAND...: runs COMMAND, prints its wall time in seconds.
seconds() {
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    echo "$start $end" | awk '{ printf "%.3f\n", $2 - $1 }'
}

u32_run() { encode --output-format u32 >"$tmp/out.u32"; }
megatron_run() { encode --output-format megatron -o "$tmp/ds" 2>"$tmp/summary"; }

: >"$tmp/times"
i=0
while [ $i -lt "$runs" ]; do
    echo "$(seconds u32_run) $(seconds megatron_run)" >>"$tmp/times"
    i=$((i + 1))
done
check="PREFIX.bin differs from the u32 output (dtype uint16)"
cmp -s "$tmp/out.u32" "$tmp/ds.bin" && check="PREFIX.bin is the u32 output byte for byte"

median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
u32=$(cut -d' ' -f1 "$tmp/times" | median)
meg=$(cut -d' ' -f2 "$tmp/times" | median)
ratio=$(awk '{ print $2 / $1 }' "$tmp/times" | median)
printf 'input: %s (%s bytes), model %s, --threads %s, %s pairs of runs\n' "$text" \
    "$(wc -c <"$tmp/text.txt")" "$(basename "$model")" "$threads" "$runs"
sed 's/^/summary: /' "$tmp/summary"
printf '%-28s %10s %12s\n' "" "u32" "megatron"
printf '%-28s %9ss %11ss\n' "median wall time" "$u32" "$meg"
printf '%-28s %10s %12s\n' "output bytes" "$(wc -c <"$tmp/out.u32")" \
    "$(($(wc -c <"$tmp/ds.bin") + $(wc -c <"$tmp/ds.idx")))"
printf 'median of per-pair ratios megatron/u32: %.3f\n' "$ratio"
echo "check: $check"
