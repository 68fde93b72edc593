#!/bin/sh
# cli_llm.sh -- end-to-end checks of what bp offers language models: `bp decode --stream`
# (ids in as they arrive, text out as soon as each character is complete) and
# `bp vocab --prefix` (the pieces that start with given bytes, for token healing).
#
# Usage: sh tests/cli_llm.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/, for data/sample.model).
# The streaming checks talk to one bp through two FIFOs and read each answer, under a
# timeout, before sending the next id: a bp that waits for more input (a full line, a
# full buffer) before writing fails them instead of hanging.

BP=${1:?usage: sh cli_llm.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
DATA=${BP_DATA_DIR:-$(dirname "$0")/../data}
M=$DATA/sample.model

# ---- decode --stream: one id at a time through FIFOs ----
# read_answer N FILE [SECONDS]: the next N bytes bp writes, within SECONDS (5), into FILE.
read_answer() {
    timeout "${3:-5}" dd bs=1 count="$1" <&4 >"$2" 2>/dev/null
}

mkfifo "$T/ids" "$T/text"
timeout 30 "$BP" decode --stream -m "$M" <"$T/ids" >"$T/text" 2>"$T/stream_err" &
bp_pid=$!
exec 3>"$T/ids" 4<"$T/text"
# Byte b is id b + 3: 'E' 72; U+1F600 is F0 9F 98 80, ids 243 162 155 131.
printf '72 ' >&3
read_answer 1 "$T/got"
printf 'E' >"$T/want"
same "$T/got" "$T/want" "stream: an id's text comes out before the next id is sent"
printf '243 162\n155 ' >&3
read_answer 1 "$T/got" 1
check "stream: three bytes of a four-byte character are held back" test ! -s "$T/got"
printf '131\t' >&3
read_answer 4 "$T/got"
printf '\360\237\230\200' >"$T/want"
same "$T/got" "$T/want" "stream: the fourth byte releases the whole character"
printf '258 ' >&3
read_answer 1 "$T/got"
printf '\377' >"$T/want"
same "$T/got" "$T/want" "stream: a byte that starts no character comes out at once"
printf '1 200 2 0' >&3 # <bos>, a lead byte (0xC5), <eos>, <pad>, then the end
exec 3>&-
timeout 5 cat <&4 >"$T/got"
printf '\305' >"$T/want"
same "$T/got" "$T/want" "stream: at the end, a held lead byte is written"
wait $bp_pid
check "stream: exit status 0 at the end of the input" test $? -eq 0
check "stream: nothing on stderr" test ! -s "$T/stream_err"
exec 4<&-

# ---- decode --stream: the whole output, and failures ----
printf 'Tokenizers turn text into numbers.\n\360\237\230\200 caf\303\251\n' >"$T/text.txt"
"$BP" encode -m "$M" "$T/text.txt" >"$T/text.ids"
run_with_stdin decode --stream -m "$M" <"$T/text.ids"
same "$T/out" "$T/text.txt" "stream: encode | decode --stream gives the text back"
printf '87 114 199 xyz 3' >"$T/bad.ids" # 'T' 'o', a lead byte (0xC4), then no id
run_with_stdin decode --stream -m "$M" <"$T/bad.ids"
check "stream: a word that is not an id: exit 1" test "$status" -eq 1
printf 'To\304' >"$T/want"
same "$T/out" "$T/want" "stream: what came before a bad word is written, held bytes too"
check "stream: the message names the word and its line" \
    grep -qxF "bp decode: <stdin>:1: not an id: 'xyz'" "$T/err"
printf '87\n\n114 538 3' >"$T/unknown.ids"
run_with_stdin decode --stream -m "$M" <"$T/unknown.ids"
check "stream: an unknown id: exit 1" test "$status" -eq 1
printf 'To' >"$T/want"
same "$T/out" "$T/want" "stream: what came before an unknown id is written"
check "stream: the message names the id, its line and its position" grep -qxF \
    "bp decode: <stdin>:3: unknown id 538 at position 2 (the vocabulary has ids 0 .. 537)" \
    "$T/err"
check "stream: one line on stderr for an unknown id" test "$(wc -l <"$T/err")" -eq 1
for word in 12abc -1 +5 0x10 1e3; do
    printf '87 114\n%s 3\n' "$word" >"$T/word.ids"
    run_with_stdin decode --stream -m "$M" <"$T/word.ids"
    check "stream: '$word' is not an id: exit 1 after writing 'To'" \
        sh -c "test $status -eq 1 && test \"\$(cat '$T/out')\" = To"
    check "stream: ... one message naming '$word' and line 2" \
        grep -qxF "bp decode: <stdin>:2: not an id: '$word'" "$T/err"
    check "stream: ... and nothing else on stderr" test "$(wc -l <"$T/err")" -eq 1
done
printf '537 007\n' >"$T/edge.ids" # the last id, and leading zeros
run_with_stdin decode --stream -m "$M" <"$T/edge.ids"
"$BP" decode -m "$M" "$T/edge.ids" >"$T/want"
check "stream: the last id of the vocabulary and 007 are ids" test "$status" -eq 0
same "$T/out" "$T/want" "stream: ... giving what bp decode gives"
printf '99999999999999999999 ' >"$T/huge.ids"
run_with_stdin decode --stream -m "$M" <"$T/huge.ids"
check "stream: a number beyond any id: exit 1" test "$status" -eq 1
stderr_has "unknown id '99999999999999999999'" "stream: ... named as an unknown id"
expect_exit 2 "stream: a FILE operand is a usage error" decode --stream -m "$M" "$T/text.ids"
stderr_has "--stream reads standard input only" "stream: ... saying why"

# ---- vocab --prefix ----
run vocab -m "$M" --prefix 'th'
printf '300\tth\t14\t-6.3132892136109682\n326\tthe\t88\t-4.4750097287480202\n383\tthat\t4\t-7.5660521821063362\n416\tthing\t6\t-7.1605870739981725\n499\tthe\\x20light\t5\t-7.3429086307921265\n' >"$T/want"
same "$T/out" "$T/want" "prefix: the pieces that start with 'th', in id order, as bp vocab lists them"
run vocab -m "$M" --prefix 'the\x20'
printf '499\tthe\\x20light\t5\t-7.3429086307921265\n' >"$T/want"
same "$T/out" "$T/want" "prefix: an escaped byte in BYTES"
run vocab -m "$M" --prefix '\xe5\x88'
check "prefix: bytes inside a character: two pieces" test "$(wc -l <"$T/out")" -eq 2
run vocab -m "$M" --prefix 'qqq'
check "prefix: no piece: exit 0, no output" test "$status" -eq 0 -a ! -s "$T/out"
expect_exit 2 "prefix: a malformed escape is a usage error" vocab -m "$M" --prefix 'a\q'
stderr_has "invalid value 'a\q' for --prefix" "prefix: ... naming it"
for bytes in 'a\x4' 'ab\' '\x' '\xg0'; do
    expect_exit 2 "prefix: the malformed escape '$bytes' is a usage error" vocab -m "$M" --prefix "$bytes"
    stderr_has "invalid value '$bytes' for --prefix" "prefix: ... naming it"
done

finish
