#!/bin/sh
# train_scaling.sh -- `bp train` on growing and hostile corpora, two builds side by side:
# wall time, CPU time and peak memory of each, and whether their models are identical.
#
# Usage: tools/train_scaling.sh [-r RUNS] [-b BP] [-B BEFORE_BP] [-T SECONDS] [ROW]...
#   ROW         "SOURCE MB [OPTION]...": SOURCE is sp (the first MB megabytes of
#               ../shared/corpus/sp_train.txt.zst, cut at a line end) or random (MB megabytes
#               of random code points, bp-random-text with seed 1); the options go to
#               `bp train` after --vocab-size 8000 (default: the README's rows)
#   -r RUNS     runs of each build per row, alternating; medians are printed (default 3)
#   -b BP       the build measured (default build/bp)
#   -B BEFORE   the build to compare with (default: none)
#   -T SECONDS  a run of BEFORE that takes longer is stopped and the row says so (default 600)
#
# Each run is a whole process timed by /usr/bin/time (wall, user + system, peak RSS). On a
# machine that other work keeps busy, the CPU time varies far less than the wall time.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
shared=${BP_SHARED_DIR:-$here/../shared}
runs=3
bp=$here/build/bp
before=
limit=600
while getopts r:b:B:T: opt; do
    case $opt in
    r) runs=$OPTARG ;;
    b) bp=$OPTARG ;;
    B) before=$OPTARG ;;
    T) limit=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- "sp 4" "sp 16" "sp 4 --min-count 1" "sp 20 --min-count 1" "random 20"
random_text=$(dirname "$bp")/bp-random-text
[ -x "$random_text" ] || { echo "train_scaling.sh: $random_text not found (build it)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# corpus SOURCE MB: the path of the corpus, made once.
corpus() {
    file=$tmp/$1.$2MB.txt
    if [ ! -e "$file" ]; then
        case $1 in
        sp) zstd -q -d -c "$shared/corpus/sp_train.txt.zst" | head -c "$(($2 * 1000000))" |
                sed '$d' >"$file" ;;
        random) "$random_text" "$(($2 * 1000000))" 1 >"$file" ;;
        *) echo "train_scaling.sh: unknown source '$1' (sp or random)" >&2; exit 2 ;;
        esac
    fi
    echo "$file"
}

# run NAME BINARY TIMEOUT FILE OPTIONS...: one training; appends "NAME wall cpu kb" to times.
run() {
    name=$1 binary=$2 seconds=$3 file=$4
    shift 4
    if timeout "$seconds" /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" \
        "$binary" train -q --vocab-size 8000 "$@" -o "$tmp/$name.model" "$file"; then
        awk -v n="$name" '{ print n, $1, $2 + $3, $4 }' "$tmp/time" >>"$tmp/times"
    else
        echo "$name timeout" >>"$tmp/times"
    fi
}

printf '%-28s | %-26s | %-26s | %s\n' "corpus, options" "before: wall, CPU, peak" \
    "after: wall, CPU, peak" "CPU ratio, models"
for row in "$@"; do
    set -- $row
    source=$1 mb=$2
    shift 2
    file=$(corpus "$source" "$mb")
    : >"$tmp/times"
    i=0
    while [ $i -lt "$runs" ]; do
        [ -z "$before" ] || run before "$before" "$limit" "$file" "$@"
        run after "$bp" 100000 "$file" "$@"
        i=$((i + 1))
    done
    same=-
    if [ -n "$before" ] && [ -e "$tmp/before.model" ]; then
        same=different
        cmp -s "$tmp/before.model" "$tmp/after.model" && same=identical
    fi
    rm -f "$tmp"/*.model
    awk -v label="$source $mb MB $*" -v same="$same" -v limit="$limit" '
        function median(a, k,   i, j, t) {
            for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
        }
        function cell(w, c, m, k, out) {
            if (out) return sprintf("> %d s (stopped)", limit)
            if (!k) return "-"
            return sprintf("%.2f s, %.2f s, %.0f MB", median(w, k), median(c, k), m / 1024)
        }
        $2 == "timeout" { out[$1] = 1; next }
        { k[$1]++; w[$1, k[$1]] = $2; c[$1, k[$1]] = $3; if ($4 > m[$1]) m[$1] = $4 }
        END {
            for (i = 1; i <= k["before"]; i++) { bw[i] = w["before", i]; bc[i] = c["before", i] }
            for (i = 1; i <= k["after"]; i++) { aw[i] = w["after", i]; ac[i] = c["after", i] }
            ratio = "-"
            if (k["before"] && !out["before"]) ratio = sprintf("%.2fx", median(bc, k["before"]) / median(ac, k["after"]))
            printf "%-28s | %-26s | %-26s | %s, %s\n", label,
                cell(bw, bc, m["before"], k["before"], out["before"]),
                cell(aw, ac, m["after"], k["after"], 0), ratio, same
        }' "$tmp/times"
done
echo "(medians of $runs runs each, alternating; peak: the largest of the runs)"
