#!/bin/sh
# cli_basic.sh -- end-to-end checks of the bp CLI that need nothing but the binary.
#
# Usage: sh tests/cli_basic.sh /path/to/bp
# Builds a tiny model (the 256 single bytes plus a few longer pieces) as reference JSON,
# then checks exit statuses, messages, round trips, line and --whole modes, option
# parsing, sampling seeds and output errors. Prints "ok - ..." or "not ok - ..." per check
# and ends with "N passed, M failed". Exit status: 0 if every check passed, 1 otherwise.

BP=${1:?usage: sh cli_basic.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
# ---- A tiny model: byte b is id b+3 (count 1); longer pieces follow (count 100) ----
M=$T/tiny.json
b=0
while [ $b -lt 256 ]; do
    # shellcheck disable=SC2059 # the format is an octal escape: it prints byte b
    key=$(printf "\\$(printf '%03o' $b)" | base64)
    printf '    "%s": [%d, "", 1]\n' "$key" $((b + 3))
    b=$((b + 1))
done >"$T/entries"
# ids 259.. in this order (ab 259, abc 260, bc 261, the 262, " the" 263, \r\n 264, é 265,
# <bos> 266, U+0085 267); printf formats, so \r and octal escapes give their bytes
id=259
for piece in ab abc bc the ' the' '\r\n' '\303\251' '<bos>' '\302\205'; do
    # shellcheck disable=SC2059 # the format gives the piece's bytes
    key=$(printf "$piece" | base64)
    printf '    "%s": [%d, "", 100]\n' "$key" $id
    id=$((id + 1))
done >>"$T/entries"
# model_json: the entry lines on stdin as one JSON object
model_json() {
    echo '{'
    sed '$!s/$/,/'
    echo '}'
}
model_json <"$T/entries" >"$M"

# ---- Inputs ----
printf 'line one\r\nlone\rcarriage\n\n\n\nthe abc \303\251\n\tTab\\back\nno final newline' \
    >"$T/mixed.txt"
printf 'bad \377\376 bytes, a lone lead \303 x, a surrogate \355\240\200\n\200\n' >"$T/invalid.txt"
printf 'e\314\201\n' >"$T/nfd.txt"
printf '\303\251\n' >"$T/nfc.txt"
printf '\n\n\n\n\n' >"$T/newlines.txt"
: >"$T/empty.txt"
printf 'abc\n' >"$T/abc.txt"
printf 'the abc\n' >"$T/a.txt"
printf 'bc ab\nxyz\n' >"$T/b.txt"
printf 'abc bc ab\n' >"$T/-dash.txt"
mkdir "$T/dir"
printf '{"AA==": [3, "", 1],' >"$T/corrupt.json"
i=0
while [ $i -lt 400 ]; do
    printf 'abcabcabc the abc bcab '
    i=$((i + 1))
done >"$T/long.txt"
echo >>"$T/long.txt"
# about 2 MB of short lines, so that the output is far larger than a pipe's buffer
yes 'the abc ab bc, the abc' | head -c 2000000 >"$T/big.txt"

# ---- Help and version ----
for args in --help -h 'encode --help' 'decode --help' --version; do
    # shellcheck disable=SC2086 # $args is a list of words on purpose
    expect_exit 0 "bp $args exits 0" $args
    check "bp $args prints to stdout" test -s "$T/out"
    stderr_empty "bp $args leaves stderr empty"
done
run --version
check "--version names the library and Unicode versions" grep -q '^bp [0-9.]* (Unicode [0-9.]*' "$T/out"

# ---- Usage errors: exit 2 with a hint ----
expect_exit 2 "no command"
stderr_has "--help" "usage error hints at --help"
expect_exit 2 "unknown command" frobnicate
stderr_has "frobnicate" "unknown command is named"
expect_exit 2 "unknown flag" encode -m "$M" --frobnicate "$T/abc.txt"
stderr_has "frobnicate" "unknown flag is named"
expect_exit 2 "unknown decode flag" decode -m "$M" --alpha 0.1 "$T/abc.txt"
expect_exit 2 "missing -m" encode "$T/abc.txt"
stderr_has "-m" "missing -m is named"
expect_exit 2 "missing -m for decode" decode "$T/abc.txt"
expect_exit 2 "-m without a value" encode -m
expect_exit 2 "--alpha banana" encode -m "$M" --alpha banana "$T/abc.txt"
stderr_has "banana" "bad --alpha value is named"
expect_exit 2 "--alpha nan" encode -m "$M" --alpha nan "$T/abc.txt"
expect_exit 2 "--alpha inf" encode -m "$M" --alpha inf "$T/abc.txt"
expect_exit 2 "--alpha 0.1x" encode -m "$M" --alpha 0.1x "$T/abc.txt"
expect_exit 2 "--seed -1" encode -m "$M" --alpha 0.1 --seed -1 "$T/abc.txt"
expect_exit 2 "--seed 2^64" encode -m "$M" --alpha 0.1 --seed 18446744073709551616 "$T/abc.txt"
expect_exit 2 "--seed 2^32 with --glibc-rand" \
    encode -m "$M" --alpha 0.1 --glibc-rand --seed 4294967296 "$T/abc.txt"
expect_exit 2 "--output-format xml" encode -m "$M" --output-format xml "$T/abc.txt"

# ---- Failures on files and data: exit 1, naming the file ----
expect_exit 1 "missing model" encode -m "$T/nope.json" "$T/abc.txt"
stderr_has "nope.json" "missing model is named"
expect_exit 1 "model is a directory" encode -m "$T/dir" "$T/abc.txt"
expect_exit 1 "corrupt model" encode -m "$T/corrupt.json" "$T/abc.txt"
stderr_has "corrupt.json" "corrupt model is named"
expect_exit 1 "corrupt model for decode" decode -m "$T/corrupt.json" "$T/abc.txt"
expect_exit 1 "missing input file" encode -m "$M" "$T/missing.txt"
stderr_has "missing.txt" "missing input is named"
expect_exit 1 "input is a directory" encode -m "$M" "$T/abc.txt" "$T/dir" "$T/a.txt"
stderr_has "dir" "directory input is named"
printf '260 13\n' >"$T/abc.ids"
same "$T/out" "$T/abc.ids" "output before a failing input is written, nothing after"
printf '260 13\n3 99999\n' >"$T/unknown.ids"
expect_exit 1 "decode of an unknown id" decode -m "$M" "$T/unknown.ids"
stderr_has "99999" "unknown id is named"
stderr_has "unknown.ids:2" "unknown id's file and line are named"
check "decode output before the bad line is written" test "$(cat "$T/out")" = abc
printf '3 4294967296\n' >"$T/huge.ids"
expect_exit 1 "decode of an id above 2^32" decode -m "$M" "$T/huge.ids"
stderr_has "4294967296" "too large id is named"
printf '12 abc\n' >"$T/word.ids"
expect_exit 1 "decode of '12 abc'" decode -m "$M" "$T/word.ids"
stderr_has "abc" "non-numeric word is named"
printf '100 101\r\n102\r\n' >"$T/crlf.ids"
expect_exit 0 "decode takes CRLF line ends" decode -m "$M" "$T/crlf.ids"
check "CRLF line ends decode to exactly the bytes of the ids" test "$(cat "$T/out")" = abc
printf -- '-3\n' >"$T/neg.ids"
expect_exit 1 "decode rejects a sign" decode -m "$M" "$T/neg.ids"

# ---- Ids and line mode ----
run encode -m "$M" "$T/abc.txt"
same "$T/out" "$T/abc.ids" "'abc\\n' encodes as the piece abc and the byte \\n"
stderr_empty "encode leaves stderr empty on success"
printf '  260\t\t68  \n\n0 1 2\n' >"$T/spaced.ids"
run decode -m "$M" "$T/spaced.ids"
check "decode takes runs of spaces and tabs, empty lines and ids 0-2" \
    test "$(cat "$T/out")" = abcA
stderr_empty "decode leaves stderr empty on success"
run encode -m "$M" --bos --eos "$T/abc.txt"
check "--bos --eos add 1 and 2" test "$(cat "$T/out")" = "1 260 13 2"
run encode -m "$M" --eos --bos "$T/empty.txt"
check "--bos --eos on empty input give nothing" test ! -s "$T/out"

run encode -m "$M" "$T/empty.txt"
check "empty input gives empty output" test ! -s "$T/out"
run_with_stdin encode -m "$M" - <"$T/empty.txt"
check "empty stdin gives empty output" test ! -s "$T/out"
run encode -m "$M" "$T/newlines.txt"
check "a file of 5 newlines gives 5 lines" test "$(wc -l <"$T/out")" -eq 5
check "each of them is the id of \\n" test "$(sort -u "$T/out")" = 13
run encode -m "$M" "$T/mixed.txt"
check "a last line without newline still gives a line" test "$(wc -l <"$T/out")" -eq 8
check "output ends in a newline" test "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" = '\n'

# ---- Round trips ----
# roundtrip NAME INPUT EXPECTED [ENCODE OPTIONS...]
roundtrip() {
    name=$1 input=$2 expected=$3
    shift 3
    "$BP" encode -m "$M" "$@" "$input" >"$T/rt.ids" 2>"$T/err" &&
        "$BP" decode -m "$M" "$T/rt.ids" >"$T/rt.out" 2>>"$T/err"
    same "$T/rt.out" "$expected" "round trip: $name"
}
roundtrip "CRLF, lone CR, blank lines, no final newline" "$T/mixed.txt" "$T/mixed.txt"
roundtrip "the same, --no-normalize" "$T/mixed.txt" "$T/mixed.txt" --no-normalize
roundtrip "invalid UTF-8, --no-normalize" "$T/invalid.txt" "$T/invalid.txt" --no-normalize
roundtrip "invalid UTF-8 passes through NFC" "$T/invalid.txt" "$T/invalid.txt"
roundtrip "NFD input comes back in NFC" "$T/nfd.txt" "$T/nfc.txt"
roundtrip "NFD input, --no-normalize" "$T/nfd.txt" "$T/nfd.txt" --no-normalize
roundtrip "a file of newlines" "$T/newlines.txt" "$T/newlines.txt"
roundtrip "--whole" "$T/mixed.txt" "$T/mixed.txt" --whole
roundtrip "--bos --eos" "$T/mixed.txt" "$T/mixed.txt" --bos --eos
roundtrip "sampling" "$T/long.txt" "$T/long.txt" --alpha 0.1 --seed 5
head -c 1000000 "$T/big.txt" | tr '\n' ' ' >"$T/oneline.txt"
roundtrip "a 1 MB line" "$T/oneline.txt" "$T/oneline.txt"
run encode -m "$M" "$T/oneline.txt"
check "a 1 MB line gives one line" test "$(wc -l <"$T/out")" -eq 1

# ---- Several inputs, stdin, --whole ----
cat "$T/a.txt" "$T/b.txt" "$T/abc.txt" >"$T/ab_abc.txt"
printf 'the abc\n' | "$BP" encode -m "$M" "$T/b.txt" - "$T/abc.txt" >"$T/out" 2>"$T/err"
printf 'bc ab\nxyz\nthe abc\nabc\n' | "$BP" encode -m "$M" >"$T/want" 2>>"$T/err"
same "$T/out" "$T/want" "files and - (stdin) are encoded in order into one output"
run encode "$T/a.txt" -m "$M" "$T/b.txt" --bos "$T/abc.txt"
"$BP" encode --bos -m "$M" "$T/ab_abc.txt" >"$T/want"
same "$T/out" "$T/want" "options after file operands are applied"
(cd "$T" && "$BP" encode -m "$M" -- -dash.txt) >"$T/out" 2>"$T/err"
check "-- ends options: a file name may start with -" \
    test "$(cat "$T/out")" = "260 35 261 35 259 13"
run encode -m "$M" --whole "$T/mixed.txt" "$T/a.txt" "$T/empty.txt" "$T/b.txt"
check "--whole gives one line per file" test "$(wc -l <"$T/out")" -eq 4
check "--whole: an empty file gives an empty line" test "$(sed -n 3p "$T/out")" = ""
run encode -m "$M" --whole "$T/empty.txt"
check "--whole: an empty file alone gives one newline" test "$(od -An -c "$T/out" | tr -d ' ')" = '\n'
run encode -m "$M" --whole --bos --eos "$T/empty.txt"
check "--whole --bos --eos: an empty file gives <bos> <eos>" test "$(cat "$T/out")" = "1 2"

# ---- Pieces ----
printf 'the\\ \303\251\t\r\n<bos>\377\303x\302\205\n' >"$T/pieces.txt"
run encode -m "$M" --output-format pieces --bos "$T/pieces.txt"
printf '%s\n%s\n' '<bos> the \\ \x20 é \t \r\n' '<bos> \x3cbos> \xff \xc3 x \xc2\x85 \n' >"$T/want"
same "$T/out" "$T/want" "pieces are escaped as documented"

# ---- Sampling ----
run encode -m "$M" --alpha 0.1 --seed 42 "$T/long.txt" "$T/long.txt"
cp "$T/out" "$T/s42a"
run encode -m "$M" --seed 42 "$T/long.txt" --alpha 0.1 "$T/long.txt"
same "$T/out" "$T/s42a" "the same --seed gives the same samples"
check "texts of one run draw from different streams" \
    test "$(sed -n 1p "$T/s42a")" != "$(sed -n 2p "$T/s42a")"
run encode -m "$M" --alpha 0.1 --seed 43 "$T/long.txt" "$T/long.txt"
check "another --seed gives other samples" differ "$T/out" "$T/s42a"
run encode -m "$M" --alpha 0.1 --seed 42 "$T/long.txt"
check "the first text of a run does not depend on what follows" \
    test "$(sed -n 1p "$T/s42a")" = "$(cat "$T/out")"
cat "$T/a.txt" "$T/long.txt" "$T/b.txt" >"$T/joined.txt"
run encode -m "$M" --alpha 0.1 --seed 9 "$T/joined.txt"
cp "$T/out" "$T/want"
run encode -m "$M" --alpha 0.1 --seed 9 "$T/a.txt" "$T/long.txt" "$T/b.txt"
same "$T/out" "$T/want" "text k gets stream k, counted across files"
run encode -m "$M" --alpha 0.1 --seed 42 --glibc-rand "$T/long.txt" "$T/long.txt"
cp "$T/out" "$T/g42"
run encode -m "$M" --alpha 0.1 --seed 42 --glibc-rand "$T/long.txt" "$T/long.txt"
same "$T/out" "$T/g42" "--glibc-rand: the same seed gives the same samples"
check "--glibc-rand: one state runs across texts" \
    test "$(sed -n 1p "$T/g42")" != "$(sed -n 2p "$T/g42")"
run encode -m "$M" --alpha -1 --seed 42 "$T/long.txt"
cp "$T/out" "$T/det"
run encode -m "$M" "$T/long.txt"
same "$T/out" "$T/det" "a negative --alpha is deterministic"
run encode -m "$M" --alpha 0.1 "$T/long.txt"
check "sampling without --seed works quietly" test "$status" -eq 0 -a ! -s "$T/err"
# An alpha so large that alpha * score overflows must still give the best segmentation.
# With bcd (count 2) beside abc (100), "abcd" is best as abc|d, not as a|bcd, the longest
# piece at each end, which is what the overflow gave.
printf '    "%s": [268, "", 2]\n' "$(printf bcd | base64)" | cat "$T/entries" - | model_json \
    >"$T/bcd.json"
printf 'abcd\nabcd abcd\n' >"$T/abcd.txt"
huge_alpha_texts="$T/abcd.txt $T/long.txt $T/oneline.txt"
# shellcheck disable=SC2086 # the list of texts is split on purpose
run encode -m "$T/bcd.json" $huge_alpha_texts
cp "$T/out" "$T/best"
check "abcd is best as abc|d" test "$(sed -n 1p "$T/best")" = "260 103 13"
for alpha in 1e6 1e100 1e308; do
    # shellcheck disable=SC2086
    run encode -m "$T/bcd.json" --alpha $alpha --seed 1 $huge_alpha_texts
    same "$T/out" "$T/best" "--alpha $alpha gives the best segmentation"
done
# shellcheck disable=SC2086
run encode -m "$T/bcd.json" --alpha 1e308 --glibc-rand $huge_alpha_texts
same "$T/out" "$T/best" "--alpha 1e308 --glibc-rand gives the best segmentation"

# ---- Output errors ----
"$BP" encode -m "$M" "$T/big.txt" 2>"$T/err" | head -c 1 >/dev/null
stderr_empty "a closed pipe ends encode quietly"
"$BP" encode -m "$M" "$T/big.txt" | "$BP" decode -m "$M" 2>"$T/err" | head -c 1 >/dev/null
stderr_empty "a closed pipe ends decode quietly"
if [ -w /dev/full ]; then
    "$BP" encode -m "$M" "$T/abc.txt" >/dev/full 2>"$T/err"
    check "a full disk makes encode fail (small output)" test $? -eq 1
    stderr_has "write error: No space left on device" "a full disk is reported"
    "$BP" encode -m "$M" "$T/big.txt" >/dev/full 2>"$T/err"
    check "a full disk makes encode fail (large output)" test $? -eq 1
    check "a full disk is reported once" test "$(wc -l <"$T/err")" -eq 1
    "$BP" decode -m "$M" "$T/abc.ids" >/dev/full 2>"$T/err"
    check "a full disk makes decode fail" test $? -eq 1
    "$BP" --help >/dev/full 2>"$T/err"
    check "a full disk makes --help fail" test $? -eq 1
fi

finish
