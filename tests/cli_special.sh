#!/bin/sh
# cli_special.sh -- end-to-end checks of special tokens: `bp add-tokens` (ids after the
# last id, one message and nothing written for a bad token), `bp encode --special` (exact
# ids in every output format, --threads, sampling; the same ids as without it on text
# without special tokens), `bp decode` and `--skip-special` (also --stream), `bp vocab`
# and `bp info`, `bp convert` (native keeps them, JSON refuses), and `bp export` to
# SentencePiece (USER_DEFINED pieces with their ids, when spm_encode is installed).
#
# Usage: sh tests/cli_special.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/, for data/sample.model).
# Exit status: 0 if every check passed, 1 otherwise.

BP=${1:?usage: sh cli_special.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
DATA=${BP_DATA_DIR:-$(dirname "$0")/../data}
M=$DATA/sample.model
C=$T/chat.model

# ---- bp add-tokens ----
expect_exit 0 "add-tokens: three tokens" add-tokens -m "$M" -o "$C" '<|im_start|>' '<|im_end|>' '<|endoftext|>'
stderr_empty "add-tokens: nothing on stderr"
run vocab -m "$C"
printf '538\t<|im_start|>\t0\t-inf\n539\t<|im_end|>\t0\t-inf\n540\t<|endoftext|>\t0\t-inf\n' >"$T/want"
tail -n 3 "$T/out" >"$T/got"
same "$T/got" "$T/want" "vocab: the tokens last, as text with count 0 and score -inf"
"$BP" vocab -m "$M" >"$T/base_vocab"
head -n 538 "$T/out" >"$T/got"
same "$T/got" "$T/base_vocab" "vocab: the ids of the pieces are unchanged"
run info -m "$C"
out_has "ids:            541 (535 pieces, 3 special tokens, and <pad> 0, <bos> 1, <eos> 2)" "info: the ids count the special tokens"
out_has "special:        539 <|im_end|>" "info: one line per special token"
run info -m "$M"
out_has "ids:            538 (535 pieces, and <pad> 0, <bos> 1, <eos> 2)" "info: unchanged without special tokens"

# Bad tokens: exit 1, one message naming the token, nothing written.
bad_token() { # DESCRIPTION MESSAGE TOKEN...
    what=$1
    message=$2
    shift 2
    expect_exit 1 "add-tokens: $what: exit 1" add-tokens -m "$C" -o "$T/bad.model" "$@"
    stderr_has "$message" "add-tokens: $what: the message"
    check "add-tokens: $what: one line" test "$(wc -l <"$T/err")" -eq 1
    absent "$T/bad.model" "add-tokens: $what: nothing written"
}
bad_token "already a special token" "TOKEN 2 '<|im_end|>' is already a special token of the model (id 539)" '[INST]' '<|im_end|>'
bad_token "twice in the list" "TOKEN 3 '[INST]' repeats an earlier token of the list (index 0)" '[INST]' x '[INST]'
bad_token "empty" "TOKEN 1 '' is empty" ''
bad_token "not UTF-8" "TOKEN 1 'a\\xff' is not valid UTF-8" "$(printf 'a\377')"
bad_token "a reserved name" "TOKEN 1 '\\x3cbos>' is the name of one of the ids 0..2" '<bos>'
expect_exit 2 "add-tokens: no TOKEN is a usage error" add-tokens -m "$M" -o "$T/bad.model"
expect_exit 2 "add-tokens: no -o is a usage error" add-tokens -m "$M" x
expect_exit 0 "add-tokens: more tokens on a model that has some" add-tokens -m "$C" -o "$T/more.model" -- '-x-' '[INST]'
run vocab -m "$T/more.model"
printf '541\t-x-\t0\t-inf\n542\t[INST]\t0\t-inf\n' >"$T/want"
tail -n 2 "$T/out" >"$T/got"
same "$T/got" "$T/want" "add-tokens: new tokens after the earlier ones"

# ---- bp encode --special ----
printf '<|im_start|>user\nHi!<|im_end|>\n' >"$T/chat.txt"
run encode -m "$C" --whole --special "$T/chat.txt"
echo "538 120 118 279 13 75 108 36 539 13" >"$T/want"
same "$T/out" "$T/want" "encode --special: exact ids"
run encode -m "$C" --whole --special --output-format pieces "$T/chat.txt"
printf '<|im_start|> u s er \\n H i ! <|im_end|> \\n\n' >"$T/want"
same "$T/out" "$T/want" "encode --special: a token prints as its text"
run encode -m "$C" --whole --special --output-format jsonl --offsets --bos --eos "$T/chat.txt"
echo '{"ids":[1,538,120,118,279,13,75,108,36,539,13,2],"offsets":[0,0,12,13,14,16,17,18,19,20,30,31]}' >"$T/want"
same "$T/out" "$T/want" "encode --special: jsonl with offsets, <bos> and <eos>"
run encode -m "$C" --whole --output-format pieces "$T/chat.txt"
printf '< | i m _ st ar t | > u s er \\n H i ! < | i m _ en d | > \\n\n' >"$T/want"
same "$T/out" "$T/want" "encode without --special: the token text is ordinary text"
run encode -m "$C" --whole --special --output-format u32 "$T/chat.txt"
printf '\032\002\000\000' >"$T/want" # 538, little-endian
head -c 4 "$T/out" >"$T/got"
same "$T/got" "$T/want" "encode --special: u32 output"
# Many lines, with and without tokens: --threads gives the same; sampling is reproducible.
i=0
while [ $i -lt 3000 ]; do
    printf 'line %d <|endoftext|>the light house<|im_start|><|im_end|> caf\303\251\n' $i
    i=$((i + 1))
done >"$T/many.txt"
"$BP" encode -m "$C" --special "$T/many.txt" >"$T/one"
run encode -m "$C" --special --threads 2 "$T/many.txt"
same "$T/out" "$T/one" "encode --special: --threads 2 gives the output of one thread"
check "encode --special: every line has its three tokens" \
    test "$(grep -c ' 540 .* 538 539 ' "$T/one")" -eq 3000
"$BP" encode -m "$C" --special --alpha 0.1 --seed 5 "$T/many.txt" >"$T/s1"
run encode -m "$C" --special --alpha 0.1 --seed 5 --threads 2 "$T/many.txt"
same "$T/out" "$T/s1" "encode --special: sampling is reproducible, whatever the threads"
"$BP" decode -m "$C" "$T/s1" >"$T/back"
same "$T/back" "$T/many.txt" "encode --special --alpha: decodes back to the text"
# Text without special tokens: the same ids with and without --special.
sed 's/<|[a-z_]*|>/ /g' "$T/many.txt" >"$T/plain.txt"
"$BP" encode -m "$C" "$T/plain.txt" >"$T/without"
run encode -m "$C" --special "$T/plain.txt"
same "$T/out" "$T/without" "encode --special: text without tokens gives the same ids"
"$BP" encode -m "$M" --alpha 0.2 --seed 9 "$T/plain.txt" >"$T/without"
run encode -m "$C" --special --alpha 0.2 --seed 9 "$T/plain.txt"
same "$T/out" "$T/without" "encode --special --alpha: the same samples as the model without tokens"
expect_exit 1 "encode --special --nbest on a model with tokens: not supported yet" \
    encode -m "$C" --special --nbest 2 --output-format jsonl "$T/chat.txt"

# ---- bp decode ----
echo "538 120 118 279 13 75 108 36 539 13" >"$T/chat.ids"
run decode -m "$C" "$T/chat.ids"
same "$T/out" "$T/chat.txt" "decode: a special token gives its text"
run decode -m "$C" --skip-special "$T/chat.ids"
printf 'user\nHi!\n' >"$T/want"
same "$T/out" "$T/want" "decode --skip-special: leaves them out"
run_with_stdin decode -m "$C" --stream --skip-special <"$T/chat.ids"
same "$T/out" "$T/want" "decode --stream --skip-special"
run_with_stdin decode -m "$C" --stream <"$T/chat.ids"
same "$T/out" "$T/chat.txt" "decode --stream: a special token gives its text"
echo "538 541" >"$T/bad.ids"
expect_exit 1 "decode: an id past the special tokens is unknown" decode -m "$C" "$T/bad.ids"
stderr_has "unknown id '541'" "decode: the unknown id named"

# ---- formats ----
expect_exit 1 "convert --to json: refused" convert --to json "$C" "$T/chat.json"
stderr_has "the model has 3 special tokens, which the reference JSON format cannot hold" \
    "convert --to json: the message names the count"
stderr_has "bp add-tokens" "convert --to json: the message names the way out"
absent "$T/chat.json" "convert --to json: nothing written"
expect_exit 1 "convert (native to the other format): refused too" convert "$C" "$T/chat.json"
expect_exit 0 "convert --to native: keeps them" convert --to native "$C" "$T/copy.model"
same "$T/copy.model" "$C" "convert --to native: the same file"
"$BP" convert --to native "$M" "$T/plain.bpm"
od -An -tu4 -j8 -N4 "$T/plain.bpm" | tr -d ' ' >"$T/version"
check "native without special tokens: format version 1" test "$(cat "$T/version")" = 1
od -An -tu4 -j8 -N4 "$C" | tr -d ' ' >"$T/version"
check "native with special tokens: format version 2" test "$(cat "$T/version")" = 2
"$BP" vocab -m "$C" >"$T/vocab.tsv"
expect_exit 1 "import: a special token's line is refused" import -o "$T/imported.json" "$T/vocab.tsv"
stderr_has "special token '<|im_start|>' (count 0)" "import: the message names the token"

if command -v spm_encode >/dev/null 2>&1; then
    expect_exit 0 "export: a model with special tokens" export "$C" "$T/chat.spm"
    printf '<|im_start|><|im_end|><|endoftext|>\n' | spm_encode --model "$T/chat.spm" --output_format id 2>/dev/null >"$T/got"
    echo "538 539 540" >"$T/want"
    same "$T/got" "$T/want" "export: the tokens keep their ids"
    printf 'Hi!<|im_end|>\n' | spm_encode --model "$T/chat.spm" --output_format id 2>/dev/null >"$T/got"
    printf 'Hi!<|im_end|>' | "$BP" encode -m "$C" --special >"$T/want"
    same "$T/got" "$T/want" "export: SentencePiece matches them as bp encode --special"
else
    echo "# spm_encode not installed: the SentencePiece export checks are skipped"
fi
finish
