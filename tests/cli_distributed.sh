#!/bin/sh
# cli_distributed.sh -- end-to-end checks of tools/bp-distributed: training on 1, 3 and 8
# shards with GNU parallel, and on 3 shards as a Slurm job array on a one-node cluster
# started here (tests/slurm_one_node.sh), each giving the model `bp train` writes from the
# same files, byte for byte; a rerun after a failed stage resumes; encoding shards into one
# Megatron dataset equals one `bp encode`.
#
# Usage: sh tests/cli_distributed.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/). Needs GNU parallel; the Slurm part needs
# root and the Slurm packages (tools/install-deps.sh --dev installs both). Without root the
# Slurm part is skipped with a message; a missing package is a failure, not a skip.
# Exit status: 0 if every check passed, 1 otherwise, 77 (skipped) without the sample data.

BP=${1:?usage: sh cli_distributed.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER="$HERE/../tools/bp-distributed"
SAMPLE=${BP_DATA_DIR:-$HERE/../data}/sample.txt
if [ ! -f "$SAMPLE" ]; then
    echo "SKIP: $SAMPLE not found (set BP_DATA_DIR)"
    exit 77
fi
command -v parallel >/dev/null 2>&1 || { not_ok "GNU parallel is installed (tools/install-deps.sh --dev)"; finish; }

# Shards: the sample and a few texts of other kinds, split into 8 files by lines.
{ cat "$SAMPLE"; printf 'caf\303\251 na\303\257ve \344\270\255\346\226\207 12345\n'; cat "$SAMPLE" | tr 'a-z' 'n-za-m'; } >"$T/corpus.txt"
mkdir "$T/s8" "$T/s3"
split -n l/8 -d "$T/corpus.txt" "$T/s8/part"
split -n l/3 -d "$T/corpus.txt" "$T/s3/part"
TRAIN_OPTS="--vocab-size 600,900 --min-count 2 --order 4"

# train_matches DESCRIPTION ENGINE SHARD...: the driver's models equal bp train's.
train_matches() {
    desc=$1 engine=$2
    shift 2
    rm -rf "$T/ref" "$T/dist"
    mkdir "$T/ref" "$T/dist"
    # shellcheck disable=SC2086
    "$BP" train -q $TRAIN_OPTS -o "$T/ref/m" "$@" 2>"$T/err" || { not_ok "$desc (bp train failed)"; return; }
    # shellcheck disable=SC2086
    if ! sh "$DRIVER" train --engine "$engine" --jobs 2 --bp "$BP" $TRAIN_OPTS -o "$T/dist/m" "$@" \
        >"$T/log" 2>&1; then
        not_ok "$desc (driver failed)"
        tail -n 20 "$T/log" | sed 's/^/    /'
        return
    fi
    if cmp -s "$T/ref/m.600" "$T/dist/m.600" && cmp -s "$T/ref/m.900" "$T/dist/m.900"; then
        ok "$desc"
    else
        not_ok "$desc (models differ)"
    fi
    check "$desc: the work directory is removed after success" test ! -e "$T/dist/m.work"
}

train_matches "parallel, 1 shard: the model of bp train" parallel "$T/corpus.txt"
train_matches "parallel, 3 shards: the model of bp train" parallel "$T"/s3/part*
train_matches "parallel, 8 shards: the model of bp train" parallel "$T"/s8/part*

# ---- Resuming: a failed segment stage leaves the counts; the rerun reuses them ----
rm -rf "$T/dist" "$T/ref" && mkdir "$T/dist" "$T/ref"
# shellcheck disable=SC2086
"$BP" train -q $TRAIN_OPTS -o "$T/ref/m" "$T"/s3/part*
mkdir "$T/badbin"
cat >"$T/badbin/bp" <<EOF
#!/bin/sh
[ "\$1" = segment ] && { echo "bp: injected failure" >&2; exit 1; }
exec "$BP" "\$@"
EOF
chmod +x "$T/badbin/bp"
# shellcheck disable=SC2086
sh "$DRIVER" train --bp "$T/badbin/bp" $TRAIN_OPTS -o "$T/dist/m" "$T"/s3/part* >"$T/log" 2>&1
check "a failing stage makes the driver exit 1" test $? -eq 1
check "the failure is reported" grep -q "stage segment failed" "$T/log"
check "no model is written after a failure" test ! -e "$T/dist/m.600"
check "the finished counts are kept for the rerun" test -s "$T/dist/m.work/ngrams/2.counts"
inode_before=$(ls -i "$T/dist/m.work/ngrams/2.counts")
# shellcheck disable=SC2086
check_logged "the rerun finishes" sh "$DRIVER" train --keep --bp "$BP" $TRAIN_OPTS -o "$T/dist/m" "$T"/s3/part*
check "the rerun gives the model of bp train" cmp -s "$T/ref/m.600" "$T/dist/m.600"
check "the rerun did not count a finished shard again" \
    test "$(ls -i "$T/dist/m.work/ngrams/2.counts")" = "$inode_before"
rm -rf "$T/dist" && mkdir "$T/dist"
# shellcheck disable=SC2086
sh "$DRIVER" train --keep --bp "$BP" $TRAIN_OPTS -o "$T/dist/k" "$T"/s3/part* >/dev/null 2>&1
# shellcheck disable=SC2086
sh "$DRIVER" train --bp "$BP" $TRAIN_OPTS -o "$T/dist/k" "$T"/s8/part* >"$T/log" 2>&1
check "a work directory of other shards is refused" test $? -eq 1
check "the refusal says why" grep -q "other shards" "$T/log"

# ---- Encoding shards into one Megatron dataset ----
"$BP" train -q --vocab-size 600 -o "$T/enc.model" "$T/corpus.txt"
"$BP" encode -m "$T/enc.model" --output-format megatron -o "$T/one" "$T"/s3/part* 2>/dev/null
check_logged "encode on 3 shards with parallel" sh "$DRIVER" encode --bp "$BP" -m "$T/enc.model" \
    -o "$T/dist/enc" "$T"/s3/part*
check "the merged dataset is one run's (.bin)" cmp -s "$T/one.bin" "$T/dist/enc.bin"
check "the merged dataset is one run's (.idx)" cmp -s "$T/one.idx" "$T/dist/enc.idx"
check_logged "sampled encode on 3 shards" sh "$DRIVER" encode --bp "$BP" -m "$T/enc.model" \
    --alpha 0.1 --seed 7 -o "$T/dist/sampled" "$T"/s3/part*
"$BP" encode -m "$T/enc.model" --alpha 0.1 --seed 7 --first-text 2199023255552 \
    --output-format megatron -o "$T/shard2" "$T/s3/part02" 2>/dev/null
check "sampled: the last shard (2) draws from streams 2 * 2^40 + k of the seed" \
    sh -c "tail -c $(wc -c <"$T/shard2.bin") '$T/dist/sampled.bin' | cmp -s - '$T/shard2.bin'"

# ---- Usage errors ----
sh "$DRIVER" train -o "$T/x" >/dev/null 2>"$T/err"
check "no shard is a usage error (exit 2)" test $? -eq 2
sh "$DRIVER" train -o "$T/x" "$T/missing.txt" >/dev/null 2>"$T/err"
check "a missing shard fails (exit 1)" test $? -eq 1
check "the missing shard is named" grep -q "missing.txt" "$T/err"
sh "$DRIVER" train --engine mpi -o "$T/x" "$T/corpus.txt" >/dev/null 2>"$T/err"
check "an unknown engine is a usage error (exit 2)" test $? -eq 2

# ---- Slurm: the same stages as a job array on a one-node cluster ----
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the Slurm checks need root to start the one-node cluster"
else
    # Outside $T (private to root): the munge user must reach its files.
    SLURM_DIR=$(mktemp -d /tmp/bp-slurm.XXXXXX)
    chmod 755 "$SLURM_DIR"
    if sh "$HERE/slurm_one_node.sh" start "$SLURM_DIR" >"$T/log" 2>&1; then
        ok "a one-node Slurm cluster starts"
        train_matches "slurm job array, 3 shards: the model of bp train" slurm "$T"/s3/part*
    else
        not_ok "a one-node Slurm cluster starts"
        tail -n 20 "$T/log" | sed 's/^/    /'
    fi
    sh "$HERE/slurm_one_node.sh" stop "$SLURM_DIR"
    rm -rf "$SLURM_DIR"
fi

finish
