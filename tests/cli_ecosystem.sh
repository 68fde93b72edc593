#!/bin/sh
# cli_ecosystem.sh -- end-to-end checks of the commands that connect bp to other tools:
# `bp info`, `bp vocab`, `bp import`, `bp export` (the format; agreement with spm_encode is
# tests/cli_spm.sh), the pipeline formats of `bp encode` (--input-format jsonl,
# --output-format u16|u32|jsonl, --offsets), and the man page against the help texts.
#
# Usage: sh tests/cli_ecosystem.sh /path/to/bp
# Environment: BP_DATA_DIR (the repository's data/), BP_SHARED_DIR (../shared; the checks
# with the published 80k model are skipped without it).
# Prints "ok - ..." or "not ok - ..." per check and ends with "N passed, M failed".
# Exit status: 0 if every check passed, 1 otherwise, 77 (skipped) without the sample data.

BP=${1:?usage: sh cli_ecosystem.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${BP_DATA_DIR:-$HERE/../data}
MAN=$HERE/../docs/bp.1
SHARED=${BP_SHARED_DIR:-}
M=$DATA/sample.model
if [ ! -f "$M" ]; then
    echo "SKIP: $M not found (set BP_DATA_DIR)"
    exit 77
fi
# =================================================================== bp info
expect_exit 0 "info runs" info -m "$M"
out_has "format:         reference JSON" "info: the format is reference JSON"
vocab_size=$(sed -n 's/^ids: *\([0-9]*\).*/\1/p' "$T/out")
n_pieces=$((vocab_size - 3))
check "info: the ids are the lines of bp vocab" test "$vocab_size" -eq "$("$BP" vocab -m "$M" | wc -l)"
out_has "ids:            $vocab_size ($n_pieces pieces, and <pad> 0, <bos> 1, <eos> 2)" "info: ids and pieces"
out_has "pieces:         256 single bytes, $((n_pieces - 256)) longer" "info: single bytes and longer pieces"
out_has "id order:       reference" "info: the sample model is in reference order"
out_has "normalization:  NFC" "info: normalization"
# The length table adds up to the number of pieces.
awk 'f && NF == 2 {n += $2} /^length  pieces$/ {f = 1} END {print n}' "$T/out" >"$T/n"
check "info: the piece-length table adds up to the pieces" test "$(cat "$T/n")" = "$n_pieces"
check "info: 256 pieces of length 1" grep -qE '^ +1 +256$' "$T/out"
cp "$T/out" "$T/info.json.txt"
"$BP" convert "$M" "$T/s.bpm" 2>/dev/null
expect_exit 0 "info on a native model" info -m "$T/s.bpm"
out_has "format:         native" "info: the format is native"
sed 1,2d "$T/out" >"$T/a"
sed 1,2d "$T/info.json.txt" >"$T/b"
same "$T/a" "$T/b" "info: native and JSON give the same figures"
if have_zstd; then
    zstd -q -c "$M" >"$T/s.model.zst"
    expect_exit 0 "info on a zstd-compressed model" info -m "$T/s.model.zst"
    out_has "format:         reference JSON (zstd-compressed)" "info: zstd compression is shown"
fi
expect_exit 2 "info without -m" info
expect_exit 2 "info with an operand" info -m "$M" extra
stderr_has "extra" "info: the operand is named"
expect_exit 1 "info with a missing model" info -m "$T/nope.model"
stderr_has "$T/nope.model" "info: the missing model is named"
expect_exit 0 "info --help" info --help

# =================================================================== bp vocab
expect_exit 0 "vocab runs" vocab -m "$M"
cp "$T/out" "$T/vocab.tsv"
check "vocab: one line per id" test "$(wc -l <"$T/vocab.tsv")" -eq "$vocab_size"
check "vocab: four tab-separated columns on every line" \
    awk -F '\t' 'NF != 4 {exit 1}' "$T/vocab.tsv"
check "vocab: ids 0, 1, 2, ... in order" awk -F '\t' '$1 != NR - 1 {exit 1}' "$T/vocab.tsv"
check "vocab: special ids first" sh -c "head -n 3 '$T/vocab.tsv' | cut -f 2 | tr '\n' ' ' | grep -qx '<pad> <bos> <eos> '"
check "vocab: byte 0x00 is id 3, escaped" grep -q "$(printf '^3\t\\\\x00\t[0-9]*\t-[0-9]')" "$T/vocab.tsv"
check "vocab: space is escaped \\x20" grep -q "$(printf '^35\t\\\\x20\t')" "$T/vocab.tsv"
check "vocab: newline is escaped \\n" grep -q "$(printf '^13\t\\\\n\t')" "$T/vocab.tsv"
# Scores are log(count) - log(total).
total=$(sed -n 's/^total count: *//p' "$T/info.json.txt")
check "vocab: scores are log(count) - log(total)" awk -F '\t' -v total="$total" '
    NR > 3 { d = $4 - (log($3) - log(total)); if (d > 1e-12 || d < -1e-12) exit 1 }' "$T/vocab.tsv"
check "vocab: counts add up to the total count" awk -F '\t' -v total="$total" '
    {s += $3} END {exit s != total}' "$T/vocab.tsv"
# The pieces column is what `bp encode --output-format pieces` writes for the same ids.
"$BP" encode -m "$M" "$DATA/sample.txt" >"$T/ids"
"$BP" encode -m "$M" --output-format pieces "$DATA/sample.txt" >"$T/pieces"
awk -F '\t' 'NR == FNR {p[$1] = $2; next} {
        line = ""; for (i = 1; i <= NF; i++) line = line (i > 1 ? " " : "") p[$i]; print line }' \
    "$T/vocab.tsv" FS=' ' "$T/ids" >"$T/pieces_from_vocab"
same "$T/pieces_from_vocab" "$T/pieces" "vocab: pieces escaped exactly as encode --output-format pieces"
expect_exit 0 "vocab on a native model" vocab -m "$T/s.bpm"
same "$T/out" "$T/vocab.tsv" "vocab: native and JSON list the same vocabulary"
expect_exit 2 "vocab without -m" vocab
expect_exit 1 "vocab with a missing model" vocab -m "$T/nope.model"
expect_exit 0 "vocab --help" vocab --help
if [ -w /dev/full ]; then
    "$BP" vocab -m "$M" >/dev/full 2>"$T/err"
    check "vocab: a write error gives exit status 1" test $? -eq 1
    stderr_has "write error" "vocab: the write error is reported"
fi

# =================================================================== bp import
# What `bp vocab` lists imports back: the sample model is a fixed point of the pruning.
"$BP" vocab -m "$M" >"$T/vocab.tsv"
expect_exit 0 "import the vocab listing" import -o "$T/imported.model" "$T/vocab.tsv"
same "$T/imported.model" "$M" "import: vocab -> import gives the model back byte for byte"
cut -f 2,3 "$T/vocab.tsv" >"$T/pieces.tsv"
"$BP" import -o "$T/imported2.model" - <"$T/pieces.tsv" 2>"$T/err"
check "import: PIECE<TAB>COUNT lines from standard input" test $? -eq 0
same "$T/imported2.model" "$M" "import: two-column input gives the same model"
expect_exit 0 "import --to native" import --to native -o "$T/imported.bpm" "$T/pieces.tsv"
"$BP" convert "$T/imported.bpm" "$T/imported3.model" 2>/dev/null
same "$T/imported3.model" "$M" "import --to native: the same model in the native format"
if [ -n "$SHARED" ] && [ -f "$SHARED/reference/models/bytepiece.plus.80k.model.zst" ]; then
    Z=$SHARED/reference/models/bytepiece.plus.80k.model.zst
    "$BP" vocab -m "$Z" | "$BP" import -o "$T/80k.model" 2>"$T/err"
    check "import: bytepiece.plus.80k through vocab and import" test $? -eq 0
    zstd -q -d -c "$Z" >"$T/80k.orig" 2>/dev/null
    same "$T/80k.model" "$T/80k.orig" "import: bytepiece.plus.80k comes back byte for byte"
fi
# A wasted piece goes, and its count goes to the pieces that segment it (once per
# occurrence); the missing single bytes come with count 1.
printf 'xy\t1\nx\t1000\ny\t1000\n' >"$T/wasted.tsv"
expect_exit 0 "import a table with a wasted piece" import -o "$T/wasted.model" "$T/wasted.tsv"
"$BP" vocab -m "$T/wasted.model" >"$T/out"
check "import: the wasted piece xy is gone (256 pieces left)" test "$(wc -l <"$T/out")" -eq 259
check "import: x and y get the count of xy" sh -c "grep -q '^123	x	1001	' '$T/out' && grep -q '^124	y	1001	' '$T/out'"
check "import: the missing bytes have count 1" grep -q "$(printf '^3\t\\\\x00\t1\t')" "$T/out"
# A kept long piece stays; escapes and the reference id order (length, then bytes).
printf 'hello\\x20world\t50\nhello\t40\n\\t\\n\t7\n' >"$T/kept.tsv"
expect_exit 0 "import escaped pieces" import -o "$T/kept.model" "$T/kept.tsv"
"$BP" vocab -m "$T/kept.model" >"$T/out"
check "import: ids in the reference order, escapes read back" \
    sh -c "tail -n 3 '$T/out' | cut -f 1,2 | tr '\t\n' '  ' | grep -qx '259 \\\\t\\\\n 260 hello 261 hello\\\\x20world '"
printf 'hello world\n' >"$T/hw.txt"
"$BP" encode -m "$T/kept.model" "$T/hw.txt" >"$T/out"
check "import: the imported model encodes with its long piece" grep -qx '261 13' "$T/out"
# The result does not depend on the number of threads.
awk -F '\t' 'NR > 259 {print $2 "\t" (NR % 7) + 1}' "$T/vocab.tsv" >"$T/perturbed.tsv"
expect_exit 0 "import with one thread" import --threads 1 -o "$T/t1.model" "$T/perturbed.tsv"
expect_exit 0 "import with three threads" import --threads 3 -o "$T/t3.model" "$T/perturbed.tsv"
same "$T/t1.model" "$T/t3.model" "import: the model does not depend on --threads"
# Errors name the line.
printf 'ab\t3\nc\\qd\t1\n' >"$T/bad.tsv"
expect_exit 1 "import: a malformed escape" import -o "$T/x.model" "$T/bad.tsv"
stderr_has "$T/bad.tsv:2: malformed escape" "import: the escape's file and line are named"
check "import: no model after a failure" test ! -e "$T/x.model"
printf 'ab\t0\n' >"$T/bad.tsv"
expect_exit 1 "import: a count of 0" import -o "$T/x.model" "$T/bad.tsv"
stderr_has "invalid count '0'" "import: the bad count is named"
printf 'ab\t3\nab\t4\n' >"$T/bad.tsv"
expect_exit 1 "import: a piece listed twice" import -o "$T/x.model" "$T/bad.tsv"
stderr_has "$T/bad.tsv:2: the piece of this line is listed twice" "import: the repeated piece's line is named"
printf 'ab\t3\tx\n' >"$T/bad.tsv"
expect_exit 1 "import: three fields" import -o "$T/x.model" "$T/bad.tsv"
printf 'ab\t1x\n' >"$T/bad.tsv"
expect_exit 1 "import: a count that is not a number" import -o "$T/x.model" "$T/bad.tsv"
expect_exit 1 "import: a missing input" import -o "$T/x.model" "$T/nope.tsv"
stderr_has "$T/nope.tsv" "import: the missing input is named"
expect_exit 1 "import: an output directory that does not exist" import -o "$T/no/dir/x.model" "$T/pieces.tsv"
expect_exit 2 "import: two operands" import -o "$T/x.model" "$T/pieces.tsv" "$T/pieces.tsv"
expect_exit 2 "import: --to yaml" import --to yaml -o "$T/x.model" "$T/pieces.tsv"
expect_exit 0 "import --help" import --help
expect_exit 0 "import of an empty table: the 256 bytes" import -o "$T/empty.model" /dev/null
"$BP" info -m "$T/empty.model" >"$T/out"
out_has "ids:            259 " "import: an empty table gives the 256 single bytes"

# =================================================================== bp export (format only;
# tests/cli_spm.sh compares with spm_encode)
expect_exit 0 "export to SentencePiece" export --format sentencepiece "$M" "$T/s.spm"
check "export: a protobuf that starts with a piece (field 1, length-delimited)" \
    sh -c "head -c 1 '$T/s.spm' | od -An -tx1 | grep -q '0a'"
expect_exit 2 "export --format yaml" export --format yaml "$M" "$T/x.spm"

# =================================================================== bp encode: pipeline formats
LC_ALL=C
export LC_ALL
# Documents: groups of 5 lines of sample.txt (each document several lines, with its '\n's),
# then a few with what JSON must escape, an NFD text and an empty text. doc.K holds the
# expected (NFC) text of document K, docs.jsonl the records.
awk -v dir="$T" '
    function esc(s) { gsub(/\\/, "&&", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s); return s }
    { text = text $0 "\n"; json = json esc($0) "\\n" }
    NR % 5 == 0 { k++; printf "%s", text > (dir "/doc." k); close(dir "/doc." k)
                  printf "{\"id\": %d, \"text\": \"%s\"}\n", k, json > (dir "/docs.jsonl"); text = json = "" }
    END { printf "%d\n", k > (dir "/n_docs") }' "$DATA/sample.txt"
k=$(cat "$T/n_docs")
add_doc() { # add_doc JSON_STRING EXPECTED_TEXT (printf format)
    k=$((k + 1))
    printf '{"text": "%s"}\n' "$1" >>"$T/docs.jsonl"
    printf "$2" >"$T/doc.$k"
}
add_doc 'tab\there, \"quotes\", back\\slash\n' 'tab\there, "quotes", back\\slash\n'
add_doc 'caf\u0065\u0301 na\u00efve \u4e2d\u6587' 'caf\303\251 na\303\257ve \344\270\255\346\226\207'
nfd_doc=$k # the one document whose NFC differs from its text
add_doc '' ''
add_doc 'no newline at the end' 'no newline at the end'
echo "$k" >"$T/n_docs"
check "pipeline: $k documents to encode" test "$k" -gt 20

# JSONL in -> u32 out with <eos> after each document -> split at <eos> -> decode each.
"$BP" encode -m "$M" --input-format jsonl --output-format u32 --eos "$T/docs.jsonl" >"$T/docs.u32" 2>"$T/err"
check "pipeline: --input-format jsonl --output-format u32 --eos runs" test $? -eq 0
check "pipeline: u32 output is 4 bytes per id" test $(($(wc -c <"$T/docs.u32") % 4)) -eq 0
od -An -v -tu4 -w4 "$T/docs.u32" | awk '{ if ($1 == 2) { print line; line = "" } else line = line (line == "" ? "" : " ") $1 }' >"$T/docs.ids"
check "pipeline: one <eos> per document" test "$(wc -l <"$T/docs.ids")" -eq "$k"
i=0
bad=0
while IFS= read -r ids; do
    i=$((i + 1))
    printf '%s\n' "$ids" | "$BP" decode -m "$M" >"$T/got" || bad=$((bad + 1))
    cmp -s "$T/got" "$T/doc.$i" || { bad=$((bad + 1)); echo "# document $i decodes differently"; }
done <"$T/docs.ids"
check "pipeline: JSONL -> u32 -> decode gives every document back, in NFC ($i documents)" \
    test "$bad" -eq 0 -a "$i" -eq "$k"
# The same ids in every output format.
"$BP" encode -m "$M" --input-format jsonl --eos "$T/docs.jsonl" >"$T/docs.txt"
tr ' ' '\n' <"$T/docs.txt" | grep -v '^$' >"$T/a"
od -An -v -tu4 -w4 "$T/docs.u32" | tr -d ' ' >"$T/b"
same "$T/a" "$T/b" "pipeline: u32 ids equal the ids of --output-format ids"
"$BP" encode -m "$M" --input-format jsonl --output-format u16 --eos "$T/docs.jsonl" >"$T/docs.u16"
od -An -v -tu2 -w2 "$T/docs.u16" | tr -d ' ' >"$T/c"
same "$T/c" "$T/b" "pipeline: u16 holds the same ids as u32"
check "pipeline: u16 is 2 bytes per id" test $(($(wc -c <"$T/docs.u16") * 2)) -eq "$(wc -c <"$T/docs.u32")"
"$BP" encode -m "$M" --input-format jsonl --output-format u32 --bos --eos "$T/docs.jsonl" >"$T/be.u32"
od -An -v -tu4 -w4 "$T/be.u32" | tr -d ' ' | awk 'NR == 1 && $1 != 1 {exit 1} $1 == 1 {b++} $1 == 2 {e++} END {exit !(b == e)}'
check "pipeline: --bos starts every document" test $? -eq 0
check "pipeline: little-endian bytes (first id <bos> is 01 00 00 00)" \
    sh -c "head -c 4 '$T/be.u32' | od -An -tx1 | tr -d ' ' | grep -qx 01000000"
# jsonl output: {"ids":[...]} per document; with --offsets, where each token starts.
"$BP" encode -m "$M" --input-format jsonl --output-format jsonl --eos "$T/docs.jsonl" >"$T/docs.out.jsonl"
sed 's/^{"ids":\[\(.*\)\]}$/\1/' "$T/docs.out.jsonl" | tr ',' ' ' >"$T/a"
same "$T/a" "$T/docs.txt" "pipeline: jsonl output holds the ids"
check "pipeline: one jsonl object per document" test "$(wc -l <"$T/docs.out.jsonl")" -eq "$k"
"$BP" encode -m "$M" --input-format jsonl --output-format jsonl --offsets --bos --eos "$T/docs.jsonl" >"$T/off.jsonl"
"$BP" vocab -m "$M" >"$T/vocab.tsv"
# Offsets into text that is already NFC: <bos> at 0, each token where the previous one
# ends or, when that is inside a character, where the character starts (less than 4 bytes
# back), <eos> at the text's length.
awk -F '\t' -v dir="$T" -v nfd_doc="$nfd_doc" '
    FILENAME == ARGV[1] { p = $2; if ($1 >= 3) { gsub(/\\x[0-9a-f][0-9a-f]|\\[\\ntr]/, "x", p); len[$1] = length(p) } else len[$1] = 0; next }
    {
        doc++
        ids = $0; sub(/^\{"ids":\[/, "", ids); sub(/\],"offsets".*/, "", ids)
        offs = $0; sub(/.*"offsets":\[/, "", offs); sub(/\]\}$/, "", offs)
        if (doc == nfd_doc) next
        n = split(ids, id, ","); m = split(offs, off, ",")
        if (n != m || off[1] != 0) { bad++; next }
        for (i = 1; i < n - 1; i++) {
            pos += len[id[i]]
            if (off[i + 1] < off[i] || off[i + 1] > pos || off[i + 1] + 4 <= pos) { bad++; next }
        }
        pos = 0
        file = dir "/doc." doc; size = 0
        while ((getline line < file) > 0) size += length(line) + 1
        close(file)
        cmd = "wc -c < \"" file "\""; cmd | getline size; close(cmd)
        if (off[n] != size + 0) bad++
    }
    END { exit bad > 0 }' "$T/vocab.tsv" FS=' ' "$T/off.jsonl"
check "pipeline: offsets start at 0, follow the pieces to the start of each character and end at each document's length" test $? -eq 0
# NFD input: e + U+0301 is one character of the NFC text, and its two tokens start where
# the e does in the input (byte 3); <eos> is at the input's length (20), not the NFC's (19).
check "pipeline: offsets of an NFD document point into its text" \
    grep -qx '{"ids":\[1,102,100,105,198,172,35,113,100,198,178,121,104,35,231,187,176,233,153,138,2\],"offsets":\[0,0,1,2,3,3,6,7,8,9,9,11,12,13,14,14,14,17,17,17,20\]}' "$T/off.jsonl"
check "pipeline: an empty document is <bos> <eos> at offset 0" \
    grep -qx '{"ids":\[1,2\],"offsets":\[0,0\]}' "$T/off.jsonl"
# Line input with the new outputs; zstd inputs.
"$BP" encode -m "$M" --output-format u32 "$DATA/sample.txt" >"$T/lines.u32"
"$BP" encode -m "$M" "$DATA/sample.txt" | tr ' ' '\n' >"$T/a"
od -An -v -tu4 -w4 "$T/lines.u32" | tr -d ' ' >"$T/b"
same "$T/a" "$T/b" "pipeline: line input to u32"
if have_zstd; then
    zstd -q -c "$T/docs.jsonl" >"$T/docs.jsonl.zst"
    "$BP" encode -m "$M" --input-format jsonl --output-format u32 --eos "$T/docs.jsonl.zst" >"$T/z.u32"
    same "$T/z.u32" "$T/docs.u32" "pipeline: a zstd-compressed JSONL input"
    "$BP" encode -m "$M" --input-format jsonl --output-format u32 --eos - <"$T/docs.jsonl.zst" >"$T/z.u32"
    same "$T/z.u32" "$T/docs.u32" "pipeline: zstd-compressed JSONL on standard input"
    zstd -q -c "$DATA/sample.txt" >"$T/sample.txt.zst"
    "$BP" encode -m "$M" "$T/sample.txt.zst" >"$T/a"
    "$BP" encode -m "$M" "$DATA/sample.txt" >"$T/b"
    same "$T/a" "$T/b" "pipeline: a zstd-compressed text input, line by line"
    "$BP" encode -m "$M" --whole "$T/sample.txt.zst" >"$T/a"
    "$BP" encode -m "$M" --whole "$DATA/sample.txt" >"$T/b"
    same "$T/a" "$T/b" "pipeline: a zstd-compressed text input, --whole"
    "$BP" encode -m "$M" "$DATA/sample.txt" | zstd -q >"$T/ids.zst"
    "$BP" decode -m "$M" "$T/ids.zst" >"$T/a"
    same "$T/a" "$DATA/sample.txt" "pipeline: bp decode reads zstd-compressed ids"
    head -c 100 "$T/sample.txt.zst" >"$T/cut.zst"
    expect_exit 1 "pipeline: a truncated zstd input" encode -m "$M" "$T/cut.zst"
    stderr_has "$T/cut.zst" "pipeline: the truncated input is named"
fi
# Threads: the parallel path writes the same bytes (an input over one block of 2 MB).
i=0
while [ $i -lt 200 ]; do cat "$DATA/sample.txt"; i=$((i + 1)); done >"$T/big.txt"
"$BP" encode -m "$M" --output-format jsonl --offsets --threads 1 "$T/big.txt" >"$T/t1"
"$BP" encode -m "$M" --output-format jsonl --offsets --threads 3 "$T/big.txt" >"$T/t3"
same "$T/t1" "$T/t3" "pipeline: jsonl with offsets, 3 threads equal 1"
"$BP" encode -m "$M" --output-format u32 --eos --threads 1 "$T/big.txt" >"$T/t1"
"$BP" encode -m "$M" --output-format u32 --eos --threads 3 "$T/big.txt" >"$T/t3"
same "$T/t1" "$T/t3" "pipeline: u32, 3 threads equal 1"
# Errors.
printf '{"text": "a"}\n{"txt": "b"}\n' >"$T/badrec.jsonl"
expect_exit 1 "pipeline: a record without the field" encode -m "$M" --input-format jsonl "$T/badrec.jsonl"
stderr_has "$T/badrec.jsonl:2:" "pipeline: the bad record's file and line are named"
printf '{"txt": "a"}\n{"txt": "b", "text": 3}\n' >"$T/field.jsonl"
expect_exit 0 "pipeline: --field picks the member" encode -m "$M" --input-format jsonl --field txt "$T/field.jsonl"
expect_exit 2 "pipeline: --field without --input-format jsonl" encode -m "$M" --field x "$DATA/hello.txt"
expect_exit 2 "pipeline: --offsets without --output-format jsonl" encode -m "$M" --offsets "$DATA/hello.txt"
expect_exit 2 "pipeline: --whole with --input-format jsonl" encode -m "$M" --whole --input-format jsonl "$T/docs.jsonl"
expect_exit 2 "pipeline: --input-format xml" encode -m "$M" --input-format xml "$T/docs.jsonl"
expect_exit 2 "pipeline: --output-format u8" encode -m "$M" --output-format u8 "$T/docs.jsonl"
stderr_has "ids, pieces, u16, u32 or jsonl" "pipeline: the output formats are listed"
if command -v script >/dev/null 2>&1; then
    script -qec "'$BP' encode -m '$M' --output-format u32 '$DATA/hello.txt'; echo \"status \$?\"" /dev/null >"$T/out" 2>&1
    check "pipeline: binary output to a terminal is refused (exit 2)" grep -q 'status 2' "$T/out"
    check "pipeline: ... with a message" grep -q 'refusing to write binary ids to a terminal' "$T/out"
fi
if [ -n "$SHARED" ] && [ -f "$SHARED/reference/models/bytepiece.plus.80k.model.zst" ]; then
    expect_exit 1 "pipeline: u16 with a model of more than 65536 ids" encode \
        -m "$SHARED/reference/models/bytepiece.plus.80k.model.zst" --output-format u16 "$DATA/hello.txt"
    stderr_has "use u32" "pipeline: the u16 refusal says what to use"
    check "pipeline: nothing written after the refusal" test ! -s "$T/out"
fi
unset LC_ALL

# =================================================================== README
README=$HERE/../README.md
if [ -f "$README" ]; then
    # The C blocks of "Using the library from C" are tests/example_api.c and
    # tests/example_train.c, verbatim and in that order.
    for k in 1 2; do
        awk -v k=$k '/^## Using the library from C/ {f = 1} f && /^```c$/ {n++; if (n == k) {c = 1; next}}
                     c && /^```$/ {exit} c' "$README" >"$T/readme$k.c"
    done
    same "$T/readme1.c" "$HERE/example_api.c" "README: the first C example is tests/example_api.c, verbatim"
    same "$T/readme2.c" "$HERE/example_train.c" "README: the second C example is tests/example_train.c, verbatim"
    # The commands the README shows on the sample model give what it shows.
    printf 'Hello, world.\n' | "$BP" encode -m "$M" --output-format jsonl --offsets >"$T/out"
    check "README: the jsonl --offsets example is current" grep -qxF "$(cat "$T/out")" "$README"
    printf 'Hello, world.\n' | "$BP" encode -m "$M" --output-format pieces >"$T/out"
    check "README: the pieces example is current" grep -qxF "$(cat "$T/out")" "$README"
    printf 'Cafe\314\201 au lait\n' | "$BP" encode -m "$M" --output-format jsonl --offsets >"$T/out"
    check "README: the Offsets example (NFD input) is current" grep -qxF "$(cat "$T/out")" "$README"
    printf 'Cafe\314\201 au lait\n' | "$BP" encode -m "$M" --output-format pieces >"$T/out"
    check "README: ... and its pieces" grep -qxF "$(cat "$T/out")" "$README"
    "$BP" info -m "$M" | head -n 9 >"$T/out"
    check "README: the info example is current" sh -c "grep -qF -- \"\$(sed -n 3p '$T/out')\" '$README'"
fi

# =================================================================== man page and help texts
if [ -f "$MAN" ]; then
    if command -v groff >/dev/null 2>&1; then
        check "man page: groff finds nothing to warn about" \
            sh -c "groff -man -ww -z '$MAN' 2>'$T/groff' && test ! -s '$T/groff'"
    fi
    "$BP" --help >"$T/main_help"
    commands=$(awk '/^Commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {f = 0}' "$T/main_help")
    check "bp --help lists commands" test -n "$commands"
    for cmd in $commands; do
        check "man page: section for bp $cmd" grep -q "^\\.SS \"bp $cmd" "$MAN"
        "$BP" "$cmd" --help >"$T/help" 2>&1
        check "bp $cmd --help exits 0" test $? -eq 0
        # Every long option of the help text, spelled as roff writes it (\-\-name), in the
        # command's own section of the man page (or OPTIONS, for --help).
        awk -v cmd="bp $cmd" '/^\.S[SH] / {in_cmd = index($0, "\"" cmd " ") > 0 || $0 == ".SH OPTIONS"} in_cmd' \
            "$MAN" >"$T/section"
        for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' "$T/help" | sort -u); do
            roff=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
            check "man page: bp $cmd $opt" grep -q -- "$roff" "$T/section"
        done
    done
    for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' "$T/main_help" | sort -u); do
        roff=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        check "man page: bp $opt" grep -q -- "$roff" "$MAN"
    done
else
    not_ok "man page $MAN is missing"
fi

# =================================================================== tools/
# The README runs tools/NAME directly: every script there with a #! line is executable
# in a checkout (the mode git records).
for script in "$HERE"/../tools/*; do
    [ -f "$script" ] && [ "$(head -c 2 "$script")" = "#!" ] || continue
    check "tools/$(basename "$script") is executable" test -x "$script"
done

finish
