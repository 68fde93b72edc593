// compare.js -- encodes a text line by line with Hugging Face tokenizers (the Node binding
// of its Rust core) from a tokenizer.json that `bp export --format huggingface` wrote, and
// compares with the ids of `bp encode` for the same lines.
//
// Usage: node compare.js TOKENIZER.json VOCAB.tsv TEXT BP.ids [SAVED.json]
//   VOCAB.tsv  the output of `bp vocab` for the model: each id's piece (escaped) and score
//              (%.17g, so exact: JavaScript numbers are the same doubles as C's)
//   TEXT       the text; each line with its '\n' is one input, as `bp encode` reads it
//   BP.ids     `bp encode`'s output for TEXT: one line of ids per line of TEXT
//   SAVED.json where to let Hugging Face write the tokenizer back (default: beside
//              TOKENIZER.json): what it writes shows the scores it read
// Prints one line, "lines N identical N ties N different N decoded N scores_exact N/N",
// where a tie is a line whose Hugging Face ids differ from bp's but cover the same bytes
// with pieces whose scores, added left to right as the Viterbi adds them, give exactly
// bp's total; "different" counts the other differing lines (described on stderr, the
// first ten); "decoded" counts the lines whose Hugging Face decode is bp's text (the line
// after NFC, as bp's ids give it); scores_exact counts the ids whose score Hugging Face
// read back as the very double bp holds. Exit status 0 (the caller judges the counts),
// 1 on a wrong invocation or a file it cannot read.
'use strict';

const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const BATCH = 2000; // lines per encodeBatch call

// The bytes of a piece escaped as `bp vocab` writes it: \\, \n, \t, \r and \xHH stand for
// bytes, every other character for its UTF-8 bytes.
function unescapePiece(text) {
  const out = [];
  const named = { '\\': 0x5c, n: 0x0a, t: 0x09, r: 0x0d };
  for (let i = 0; i < text.length; ) {
    if (text[i] === '\\' && text[i + 1] in named) {
      out.push(named[text[i + 1]]);
      i += 2;
    } else if (text[i] === '\\' && text[i + 1] === 'x') {
      out.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 4;
    } else {
      const cp = text.codePointAt(i);
      const ch = String.fromCodePoint(cp);
      out.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.from(out);
}

// The id -> {bytes, score} table of `bp vocab` output (ids 0-2 hold no bytes).
function readVocab(path) {
  const vocab = [];
  for (const row of fs.readFileSync(path, 'utf8').split('\n')) {
    if (row === '') continue;
    const [id, piece, , score] = row.split('\t');
    const n = Number(id);
    vocab[n] = { bytes: n < 3 ? Buffer.alloc(0) : unescapePiece(piece), score: Number(score) };
  }
  return vocab;
}

// The lines of a file, each with its '\n' (a last line without one as it is).
function readLines(path) {
  const data = fs.readFileSync(path);
  const lines = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) {
      lines.push(data.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < data.length) lines.push(data.subarray(start));
  return lines;
}

function bytesOf(vocab, ids) {
  return Buffer.concat(ids.map((id) => vocab[id].bytes));
}

function scoreOf(vocab, ids) {
  let total = 0;
  for (const id of ids) total += vocab[id].score;
  return total;
}

// How many ids Hugging Face holds with exactly bp's score, after writing the tokenizer
// back (it prints each double in its shortest exact form).
function exactScores(tokenizer, vocab, savedPath) {
  tokenizer.save(savedPath, false);
  const saved = JSON.parse(fs.readFileSync(savedPath, 'utf8')).model.vocab;
  let exact = 0;
  for (let id = 3; id < vocab.length; id++) exact += saved[id][1] === vocab[id].score ? 1 : 0;
  return { exact, of: vocab.length - 3 };
}

async function main() {
  const [tokPath, vocabPath, textPath, idsPath, savedArg] = process.argv.slice(2);
  if (!idsPath) {
    console.error('usage: node compare.js TOKENIZER.json VOCAB.tsv TEXT BP.ids [SAVED.json]');
    return 1;
  }
  const tokenizer = Tokenizer.fromFile(tokPath);
  const vocab = readVocab(vocabPath);
  const lines = readLines(textPath);
  const bpIds = fs.readFileSync(idsPath, 'utf8').split('\n').slice(0, lines.length)
    .map((row) => (row === '' ? [] : row.split(' ').map(Number)));
  const counts = { identical: 0, ties: 0, different: 0, decoded: 0 };
  for (let first = 0; first < lines.length; first += BATCH) {
    const texts = lines.slice(first, first + BATCH).map((line) => line.toString('utf8'));
    const encodings = await tokenizer.encodeBatch(texts);
    const hfIds = encodings.map((e) => e.getIds());
    const decoded = await tokenizer.decodeBatch(hfIds, false);
    hfIds.forEach((ids, k) => {
      const want = bpIds[first + k];
      const wantBytes = bytesOf(vocab, want);
      if (decoded[k] === wantBytes.toString('utf8')) counts.decoded++;
      if (ids.length === want.length && ids.every((id, j) => id === want[j])) {
        counts.identical++;
      } else if (bytesOf(vocab, ids).equals(wantBytes)
                 && scoreOf(vocab, ids) === scoreOf(vocab, want)) {
        counts.ties++;
      } else {
        if (counts.different < 10)
          console.error(`line ${first + k + 1}: bp ${want.join(' ')} (score ${scoreOf(vocab, want)})` +
                        ` | Hugging Face ${ids.join(' ')} (score ${scoreOf(vocab, ids)})`);
        counts.different++;
      }
    });
  }
  const scores = exactScores(tokenizer, vocab, savedArg || `${tokPath}.saved`);
  console.log(`lines ${lines.length} identical ${counts.identical} ties ${counts.ties}` +
              ` different ${counts.different} decoded ${counts.decoded}` +
              ` scores_exact ${scores.exact}/${scores.of}`);
  return 0;
}

main().then((status) => { process.exitCode = status; },
            (e) => { console.error(`compare.js: ${e.message}`); process.exitCode = 1; });
