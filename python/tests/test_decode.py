"""decode, decode_str, the stream decoder and n-best, against encode and the CLI."""
import pytest

import libbytepiece
from conftest import cli_jsonl

TEXT = "Hello world, héllo 你好\n"


def test_decode_round_trip(sample_model, sample_lines):
    for line in sample_lines:
        ids = sample_model.encode(line)
        assert sample_model.decode(ids) == line
        assert sample_model.decode(ids.tolist()) == line
        assert sample_model.decode_str(ids) == line.decode()


def test_decode_numpy_and_special_ids(sample_model):
    np = pytest.importorskip("numpy")
    ids = sample_model.encode(TEXT, bos=True, eos=True)
    assert (ids[0], ids[-1]) == (1, 2)
    assert sample_model.decode(np.frombuffer(ids, dtype=np.uint32)) == TEXT.encode()
    assert sample_model.decode(np.array(ids.tolist(), dtype=np.int64)) == TEXT.encode()
    assert sample_model.decode([0, 1, 2]) == b""


def test_decode_str_errors_argument(sample_model):
    half = [sample_model.piece_to_id(b"\xe4")]  # the first byte of a character alone
    assert sample_model.decode_str(half) == "\ufffd"
    with pytest.raises(UnicodeDecodeError):
        sample_model.decode_str(half, errors="strict")


def test_stream_decoder_gives_whole_characters(sample_model):
    ids = sample_model.encode(TEXT)
    dec = libbytepiece.StreamDecoder(sample_model)
    chunks = [dec.decode(i) for i in ids]
    for chunk in chunks:
        chunk.decode()  # never half a character
    assert b"".join(chunks) + dec.flush() == TEXT.encode()
    assert b"" in chunks  # some ids only added to what was held
    assert dec.decode(ids) + dec.flush() == TEXT.encode()  # many at once, after a flush


def test_stream_decoder_unknown_id_leaves_stream_unchanged(sample_model):
    dec = libbytepiece.StreamDecoder(sample_model)
    assert dec.decode(sample_model.piece_to_id(b"\xe4")) == b""
    with pytest.raises(libbytepiece.Error) as info:
        dec.decode([sample_model.vocab_size])
    assert info.value.code == 14 and info.value.offset == 0
    assert dec.flush() == b"\xe4"


def test_nbest_equals_cli(sample_model, sample_model_path):
    want = cli_jsonl("-m", sample_model_path, "--nbest", 5, input_bytes=TEXT.encode())[0]["nbest"]
    got = sample_model.nbest(TEXT, 5)
    assert len(got) == len(want) >= 3  # the toy model has few ways to split it
    assert [(ids.tolist(), score) for ids, score in got] == [(w["ids"], w["score"]) for w in want]
    assert got[0][0] == sample_model.encode(TEXT)


def test_pieces(sample_model):
    assert sample_model.vocab_size == len(sample_model) == 538
    assert [sample_model.id_to_piece(i) for i in range(3)] == [None, None, None]
    assert sample_model.id_to_piece(ord("a") + 3) == b"a"
    assert sample_model.piece_to_id(b"a") == sample_model.piece_to_id("a") == ord("a") + 3
    assert sample_model.piece_to_id(b"no such piece at all") is None
    for i in (3, 100, 537):
        piece = sample_model.id_to_piece(i)
        assert sample_model.piece_to_id(piece) == i
        assert sample_model.piece_count(i) > 0 and sample_model.piece_score(i) < 0
    assert sample_model.piece_count(0) == 0
