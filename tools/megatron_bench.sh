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
# hits both; the medians of wall time and of CPU time (user + system, from the shell's
# `times`, which a loaded machine disturbs less) are printed, and the median of the
# per-pair ratios of each. The check
# line says whether PREFIX.bin is the u32 output byte for byte (it is when the dtype is
# int32). Needs zstd for a .zst TEXT.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/bench_lib.sh
. "$here/tools/bench_lib.sh"
encode_bench_setup 7 1 "$@" # the defaults of RUNS and N

encode() {
    "$bp" encode -m "$tmp/model.bpm" --threads "$threads" "$@" "$tmp/text.txt"
}

# children_cpu FILE: the CPU seconds (user + system) of the current shell's finished
# children so far, into FILE (`times` must run in the shell itself, not in a $(...)).
children_cpu() {
    times >"$1.times"
    awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } print s }' \
        "$1.times" >"$1"
}

# seconds COMMAND...: runs COMMAND, prints its wall time and CPU time in seconds.
seconds() {
    children_cpu "$tmp/cpu0"
    start=$(now)
    "$@"
    end=$(now)
    children_cpu "$tmp/cpu1"
    echo "$start $end $(cat "$tmp/cpu0") $(cat "$tmp/cpu1")" |
        awk '{ printf "%.3f %.3f\n", $2 - $1, $4 - $3 }'
}

u32_run() { encode --output-format u32 >"$tmp/out.u32"; }
megatron_run() { encode --output-format megatron -o "$tmp/ds" 2>"$tmp/summary"; }

# pair: one run of each kind, u32 first, their times a line of $tmp/times.
pair() { echo "$(seconds u32_run) $(seconds megatron_run)" >>"$tmp/times"; }

: >"$tmp/times"
bench_rounds "$runs" pair
check="PREFIX.bin differs from the u32 output (dtype uint16)"
cmp -s "$tmp/out.u32" "$tmp/ds.bin" && check="PREFIX.bin is the u32 output byte for byte"

# each line of times: u32 wall, u32 CPU, megatron wall, megatron CPU. Of an even count of
# runs the median here is the mean of the two middle values (bench_lib.sh's median takes
# the lower one, which keeps integers integers).
mean_median() { sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column() { cut -d' ' -f"$1" "$tmp/times" | mean_median; }
ratio() { awk -v a="$1" -v b="$2" '{ print $b / $a }' "$tmp/times" | mean_median; }
printf 'input: %s (%s bytes), model %s, --threads %s, %s pairs of runs\n' "$text" \
    "$(wc -c <"$tmp/text.txt")" "$(basename "$model")" "$threads" "$runs"
sed 's/^/summary: /' "$tmp/summary"
printf '%-24s %10s %10s %16s\n' "" "u32" "megatron" "ratio (median)"
printf '%-24s %9ss %9ss %16.3f\n' "wall time (median)" "$(column 1)" "$(column 3)" "$(ratio 1 3)"
printf '%-24s %9ss %9ss %16.3f\n' "CPU time (median)" "$(column 2)" "$(column 4)" "$(ratio 2 4)"
printf '%-24s %10s %10s\n' "output bytes" "$(wc -c <"$tmp/out.u32")" \
    "$(($(wc -c <"$tmp/ds.bin") + $(wc -c <"$tmp/ds.idx")))"
echo "check: $check"
