#!/bin/sh
# cli_nbest.sh -- `bp encode --nbest K`: the exact JSONL of known texts under
# data/sample.model, agreement of the first segmentation with plain `bp encode`, and the
# usage errors of --nbest with other options.
#
# Usage: sh tests/cli_nbest.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/, for data/sample.model).
# Exit status: 0 if every check passed, 1 otherwise, 77 (skipped) without the model.

BP=${1:?usage: sh cli_nbest.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
M=${BP_DATA_DIR:-$(dirname "$0")/../data}/sample.model
if [ ! -r "$M" ]; then
    echo "SKIP: $M not found (set BP_DATA_DIR)"
    exit 77
fi

# ---- Exact output ----
printf 'the cat\n' >"$T/cat.txt"
cat >"$T/want" <<'WANT'
{"nbest":[{"ids":[326,35,102,100,119,13],"score":-24.552195323917822},{"ids":[300,104,35,102,100,119,13],"score":-30.475286901551414},{"ids":[119,107,104,35,102,100,119,13],"score":-33.034998713844374}]}
WANT
run encode -m "$M" --nbest 4 --output-format jsonl "$T/cat.txt"
same "$T/out" "$T/want" "--nbest 4: the 3 segmentations of 'the cat\\n', best first, exact scores"

cat >"$T/want" <<'WANT'
{"nbest":[{"ids":[1,326,35,102,100,119,13,2],"score":-24.552195323917822},{"ids":[1,300,104,35,102,100,119,13,2],"score":-30.475286901551414}]}
WANT
run encode -m "$M" --nbest 2 --output-format jsonl --bos --eos "$T/cat.txt"
same "$T/out" "$T/want" "--nbest 2 --bos --eos: each segmentation gets <bos> and <eos>"

printf '' >"$T/empty.txt"
echo '{"nbest":[{"ids":[],"score":0}]}' >"$T/want"
run encode -m "$M" --nbest 3 --output-format jsonl --whole "$T/empty.txt"
same "$T/out" "$T/want" "--whole on an empty file: one empty segmentation, score 0"

# ---- The first segmentation is the plain encoding ----
sed -n '1,40p' "${M%/*}/sample.txt" >"$T/lines.txt"
run encode -m "$M" --output-format jsonl "$T/lines.txt"
mv "$T/out" "$T/plain"
run encode -m "$M" --nbest 5 --output-format jsonl "$T/lines.txt"
sed 's/^{"nbest":\[\({"ids":\[[^]]*\]\).*/\1}/' "$T/out" >"$T/first"
same "$T/first" "$T/plain" "--nbest 5: the first of every line is the plain encoding"
run encode -m "$M" --nbest 5 --output-format jsonl --threads 2 "$T/lines.txt"
mv "$T/out" "$T/threads"
run encode -m "$M" --nbest 5 --output-format jsonl "$T/lines.txt"
same "$T/threads" "$T/out" "--nbest with --threads 2 writes what one thread writes"

printf '{"text":"the cat\\n"}\n' >"$T/cat.jsonl"
run encode -m "$M" --nbest 4 --output-format jsonl "$T/cat.txt"
mv "$T/out" "$T/from_lines"
run encode -m "$M" --nbest 4 --output-format jsonl --input-format jsonl "$T/cat.jsonl"
same "$T/out" "$T/from_lines" "--nbest reads JSONL documents as it reads lines"

# ---- Usage errors ----
expect_exit 2 "--nbest needs --output-format jsonl" encode -m "$M" --nbest 2 "$T/cat.txt"
stderr_has "--nbest needs --output-format jsonl" "... and says so"
expect_exit 2 "--nbest with --alpha is refused" encode -m "$M" --nbest 2 \
    --output-format jsonl --alpha 0.5 "$T/cat.txt"
stderr_has "excludes --alpha" "... and says why"
expect_exit 2 "--nbest with --offsets is refused" encode -m "$M" --nbest 2 \
    --output-format jsonl --offsets "$T/cat.txt"
expect_exit 2 "--nbest 0 is refused" encode -m "$M" --nbest 0 --output-format jsonl
stderr_has "expected a number from 1 to 1024" "... with the range"
expect_exit 2 "--nbest 1025 is refused" encode -m "$M" --nbest 1025 --output-format jsonl
expect_exit 0 "--nbest 1024 is accepted" encode -m "$M" --nbest 1024 --output-format jsonl \
    "$T/cat.txt"

finish
