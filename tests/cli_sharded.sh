#!/bin/sh
# cli_sharded.sh -- training in stages (bp count, bp merge, bp segment, bp train
# --from-counts) against bp train on the same files.
#
# Usage: sh tests/cli_sharded.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/), BP_SHARED_DIR (../shared, for the
# golden texts; skipped without them). The corpus is data/ plus the golden texts, cut into
# files; each file is one text, so splitting the files between shards splits the corpus
# exactly. Checks that 1, 3 and 8 shards, merged as different trees, give count files of
# the same bytes and models byte-identical to bp train's (default options, and a second
# set of options), and that bad, truncated and mixed-up count files are refused with exit
# status 1, a message naming the file, and no output left behind.

BP=${1:?usage: sh cli_sharded.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
need_golden_texts

# ---- The corpus: 12 files, one of them zstd-compressed ----
mkdir "$T/c"
cp "$DATA/sample.txt" "$DATA/hello.txt" "$DATA/README.md" "$GOLDEN/golden_zh.txt" \
    "$GOLDEN/golden_edge.txt" "$T/c/"
split -n l/7 "$GOLDEN/golden_en.txt" "$T/c/en."
if have_zstd; then
    zstd -q --rm "$T/c/en.ab"
fi
set -- "$T"/c/*
n_files=$#
VOCAB=1500

# shard K N FILE...: the FILEs of shard K of N (round robin, so every shard has some).
shard() {
    k=$1
    n=$2
    shift 2
    i=0
    for f in "$@"; do
        [ $((i % n)) -eq "$k" ] && printf '%s\n' "$f"
        i=$((i + 1))
    done
}

# pipeline DIR N OPTIONS...: count on N shards, merge flat, segment, merge flat, train.
# The count and pieces files are left in DIR (s0.counts ..., ngrams.counts, s0.pieces ...,
# pieces.counts, model). With PRUNE=--prune, the n-gram merge is pruned.
pipeline() {
    dir=$1
    n=$2
    shift 2
    mkdir -p "$dir"
    k=0
    while [ "$k" -lt "$n" ]; do
        # shellcheck disable=SC2046 # the shard's file names are word-split on purpose
        "$BP" count -q "$@" -o "$dir/s$k.counts" $(shard "$k" "$n" "$T"/c/*) || return 1
        k=$((k + 1))
    done
    "$BP" merge -q ${PRUNE:-} -o "$dir/ngrams.counts" "$dir"/s*.counts || return 1
    k=0
    while [ "$k" -lt "$n" ]; do
        # shellcheck disable=SC2046
        "$BP" segment -q -n "$dir/ngrams.counts" -o "$dir/s$k.pieces" $(shard "$k" "$n" "$T"/c/*) ||
            return 1
        k=$((k + 1))
    done
    "$BP" merge -q -o "$dir/pieces.counts" "$dir"/s*.pieces || return 1
    "$BP" train -q --from-counts "$dir/pieces.counts" --vocab-size "$VOCAB" -o "$dir/model"
}

# ---- Exactness: any split, any merge tree, the model of bp train ----
check "bp train on the $n_files files" "$BP" train -q --vocab-size "$VOCAB" -o "$T/ref.model" "$T"/c/*
for n in 1 3 8; do
    check_logged "$n shard(s): count, merge, segment, merge, train" pipeline "$T/p$n" "$n"
    same "$T/ref.model" "$T/p$n/model" "$n shard(s) give bp train's model, byte for byte"
done
PRUNE=--prune check_logged "3 shards, n-grams merged with --prune" pipeline "$T/pruned3" 3
same "$T/ref.model" "$T/pruned3/model" "3 shards through the pruned n-gram merge give bp train's model"
same "$T/p3/s1.pieces" "$T/pruned3/s1.pieces" "a shard's piece counts from pruned n-grams: same bytes"
check "the pruned n-gram counts are a fraction of the sum" test \
    "$(wc -c <"$T/pruned3/ngrams.counts")" -lt "$(($(wc -c <"$T/p3/ngrams.counts") / 2))"
same "$T/p1/ngrams.counts" "$T/p8/ngrams.counts" "merged n-gram counts of 1 and 8 shards: same bytes"
same "$T/p3/pieces.counts" "$T/p8/pieces.counts" "merged piece counts of 3 and 8 shards: same bytes"
P=$T/p8
check "pairwise tree of the 8 n-gram files" sh -c "
    '$BP' merge -q -o '$T/t01' '$P/s0.counts' '$P/s1.counts' &&
    '$BP' merge -q -o '$T/t23' '$P/s2.counts' '$P/s3.counts' &&
    '$BP' merge -q -o '$T/t45' '$P/s4.counts' '$P/s5.counts' &&
    '$BP' merge -q -o '$T/t67' '$P/s6.counts' '$P/s7.counts' &&
    '$BP' merge -q -o '$T/t0123' '$T/t01' '$T/t23' &&
    '$BP' merge -q -o '$T/t4567' '$T/t67' '$T/t45' &&
    '$BP' merge -q -o '$T/tree.counts' '$T/t4567' '$T/t0123'"
same "$P/ngrams.counts" "$T/tree.counts" "a pairwise tree gives the flat merge's bytes"
check "a chain of piece merges, last shard first, into its own input" sh -c "
    cp '$P/s7.pieces' '$T/chain' &&
    for k in 6 5 4 3 2 1 0; do '$BP' merge -q -o '$T/chain' '$T/chain' '$P/s'\$k.pieces || exit 1; done"
same "$P/pieces.counts" "$T/chain" "a chain of merges gives the flat merge's bytes"

# Other options travel in the files: bp segment and bp train --from-counts take them there.
OPTS="--order 4 --min-count 3 --max-piece-length 12 --isolate-digits"
# shellcheck disable=SC2086 # OPTS is a list of options
check "bp train $OPTS" "$BP" train -q $OPTS --vocab-size "$VOCAB" -o "$T/ref-opts.model" "$T"/c/*
# shellcheck disable=SC2086
check_logged "3 shards with $OPTS" pipeline "$T/o3" 3 $OPTS
same "$T/ref-opts.model" "$T/o3/model" "3 shards with $OPTS give bp train's model"
run train --from-counts "$T/o3/pieces.counts" --vocab-size 400,300 -o "$T/o3/multi"
check "--from-counts with several sizes" test "$status" -eq 0 -a -s "$T/o3/multi.400" -a -s "$T/o3/multi.300"

# ---- Usage errors (exit 2) ----
expect_exit 0 "count --help" count --help
expect_exit 0 "segment --help" segment --help
expect_exit 0 "merge --help" merge --help
expect_exit 2 "count without -o" count "$DATA/hello.txt"
expect_exit 2 "segment without -n" segment -o "$T/x.pieces" "$DATA/hello.txt"
expect_exit 2 "merge without inputs" merge -o "$T/x.counts"
expect_exit 2 "segment takes no --order" segment --order 3 -n "$P/ngrams.counts" -o "$T/x" "$DATA/hello.txt"
expect_exit 2 "--from-counts with --min-count" train --from-counts "$P/pieces.counts" --min-count 5
stderr_has "the counts fix the options" "--from-counts says why it takes no --min-count"
expect_exit 2 "--from-counts with a FILE" train --from-counts "$P/pieces.counts" "$DATA/hello.txt"

# ---- Bad and mixed-up files (exit 1, a message naming the file, no output) ----
"$BP" count -q --order 5 -o "$T/order5.counts" "$DATA/hello.txt"
expect_exit 1 "merging counts of different --order" merge -o "$T/bad.out" "$P/s0.counts" "$T/order5.counts"
stderr_has "$T/order5.counts was made with --order 5, $P/s0.counts with 6" "the mismatch names files and option"
absent "$T/bad.out" "a refused merge leaves no file"
expect_exit 1 "merging n-gram and piece counts" merge -o "$T/bad.out" "$P/s0.counts" "$P/s0.pieces"
stderr_has "holds piece counts" "the kind mismatch is named"
expect_exit 1 "segment with piece counts as -n" segment -n "$P/pieces.counts" -o "$T/bad.out" "$DATA/hello.txt"
absent "$T/bad.out" "a refused segment leaves no file"
expect_exit 1 "--from-counts of n-gram counts" train --from-counts "$P/ngrams.counts" -o "$T/bad.out"
stderr_has "holds n-gram counts" "--from-counts names the wrong kind"
expect_exit 1 "merging pruned n-gram counts" merge -o "$T/bad.out" "$P/s0.counts" "$T/pruned3/ngrams.counts"
stderr_has "pruned n-gram counts, which do not add up" "a pruned file is no input of a merge"
expect_exit 1 "pruning piece counts" merge --prune -o "$T/bad.out" "$P/s0.pieces"
stderr_has "only n-gram counts are pruned" "--prune says what it prunes"
absent "$T/bad.out" "refused merges leave no file"
expect_exit 1 "a text file is no count file" merge -o "$T/bad.out" "$DATA/hello.txt"
stderr_has "$DATA/hello.txt: not a count file" "bad magic is reported with the file"
size=$(wc -c <"$P/s1.counts")
head -c $((size - 40)) "$P/s1.counts" >"$T/truncated.counts"
expect_exit 1 "a truncated count file" merge -o "$T/bad.out" "$T/truncated.counts"
stderr_has "$T/truncated.counts:" "truncation is reported with the file"
# A byte of the compressed entries changed: the frame's content checksum or the decoder
# catches it (the trailer's checksum covers only the ends).
cp "$P/s1.counts" "$T/flipped.counts"
printf '\125' | dd of="$T/flipped.counts" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_exit 1 "a damaged count file" merge -o "$T/bad.out" "$T/flipped.counts"
stderr_has "$T/flipped.counts:" "damage is reported with the file"
absent "$T/bad.out" "no output after any of the failures"
cp "$P/s1.counts" "$T/trailer.counts"
printf '\001' | dd of="$T/trailer.counts" bs=1 seek=$((size - 30)) conv=notrunc 2>/dev/null
expect_exit 1 "a changed total in the trailer" merge -o "$T/bad.out" "$T/trailer.counts"
stderr_has "checksum mismatch" "the trailer's checksum catches it"
psize=$(wc -c <"$P/pieces.counts")
cp "$P/pieces.counts" "$T/flipped.pieces"
printf '\125' | dd of="$T/flipped.pieces" bs=1 seek=$((psize / 2)) conv=notrunc 2>/dev/null
expect_exit 1 "--from-counts of damaged piece counts" train --from-counts "$T/flipped.pieces" -o "$T/bad.out"
stderr_has "$T/flipped.pieces:" "--from-counts names the damaged file"
absent "$T/bad.out" "no model from damaged counts"
expect_exit 1 "a count file that is no regular file" train --from-counts /dev/null -o "$T/bad.out"
stderr_has "must be a regular file" "the reason is given"
: >"$T/empty.txt"
"$BP" count -q -o "$T/empty.counts" "$T/empty.txt"
"$BP" segment -q -n "$T/empty.counts" -o "$T/empty.pieces" "$T/empty.txt"
expect_exit 1 "training on the counts of no text" train --from-counts "$T/empty.pieces" -o "$T/bad.out"
stderr_has "no text" "counts of no text are reported"

finish
