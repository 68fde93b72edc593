#!/bin/sh
# build_corpus.sh -- builds a large training corpus for the scale benchmarks
# (tools/sharded_bench.sh): the shared corpora (../shared/corpus: English, Chinese, code)
# followed by the text and code that Debian installs on this machine (C headers, Python,
# Perl and JavaScript sources, package documentation), in a fixed (sorted) order, cut at SIZE megabytes on a
# line boundary and split into SHARDS files of whole lines.
#
# Usage: sh tools/build_corpus.sh SIZE_MB SHARDS OUTDIR
#   writes OUTDIR/corpus.txt (the whole) and OUTDIR/shard-00 .. (the same bytes in SHARDS
#   files). Only text files are taken (files that are valid UTF-8, per iconv); the result
#   depends on which packages are installed, so quote it with its size, not as a fixed file.
# Environment: BP_SHARED_DIR (default ../shared beside the repository).
set -eu
size_mb=${1:?usage: build_corpus.sh SIZE_MB SHARDS OUTDIR}
shards=${2:?usage: build_corpus.sh SIZE_MB SHARDS OUTDIR}
out=${3:?usage: build_corpus.sh SIZE_MB SHARDS OUTDIR}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${BP_SHARED_DIR:-$here/../shared}
[ -d "$shared/corpus" ] || { echo "build_corpus.sh: $shared/corpus not found (set BP_SHARED_DIR)" >&2; exit 1; }
mkdir -p "$out"
limit=$((size_mb * 1000000))

{
    for f in sp_train bench_mix train_mix; do zstd -dc "$shared/corpus/$f.txt.zst"; done
    find /usr/include /usr/lib/python3 /usr/share/doc /usr/share/perl /usr/lib/node_modules -type f \
        \( -name '*.h' -o -name '*.py' -o -name '*.txt' -o -name '*.md' -o -name '*.html' \
           -o -name 'README*' -o -name 'copyright' -o -name '*.js' -o -name '*.pm' \
           -o -name '*.pod' \) 2>/dev/null | LC_ALL=C sort |
        while IFS= read -r f; do
            iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 && cat "$f"
        done
} | head -c "$limit" >"$out/corpus.part"
# Cut after the last newline (drop a line that head cut), so the shards split on whole lines.
if [ -n "$(tail -c 1 "$out/corpus.part")" ]; then
    LC_ALL=C sed '$d' "$out/corpus.part" >"$out/corpus.txt"
else
    mv "$out/corpus.part" "$out/corpus.txt"
fi
rm -f "$out/corpus.part"
[ "$(wc -c <"$out/corpus.txt")" -ge $((limit / 2)) ] ||
    echo "build_corpus.sh: warning: only $(wc -c <"$out/corpus.txt") bytes of text found" >&2
split -n "l/$shards" -d -a 2 "$out/corpus.txt" "$out/shard-"
echo "build_corpus.sh: $(wc -c <"$out/corpus.txt") bytes in $out/corpus.txt and $shards shards" >&2
