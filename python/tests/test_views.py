"""Ids are uint32 arrays with the buffer protocol: numpy and memoryview share their memory."""
import gc
import sys

import pytest

from conftest import cli_jsonl, lines_of

np = pytest.importorskip("numpy")


def test_memoryview_format_and_items(sample_model):
    ids = sample_model.encode("Hello world")
    view = memoryview(ids)
    assert (view.format, view.itemsize, view.ndim, view.shape) == ("I", 4, 1, (len(ids),))
    assert view.tolist() == ids.tolist() == list(ids)
    assert view.nbytes == 4 * len(ids)


def test_numpy_frombuffer_shares_memory(sample_model):
    ids = sample_model.encode("Hello world")
    a = np.frombuffer(ids, dtype=np.uint32)
    assert a.tolist() == ids.tolist()
    a[0] = 4242  # the array is the Array's memory: no copy was made
    assert ids[0] == 4242
    b = np.frombuffer(ids, dtype=np.uint32)
    assert np.shares_memory(a, b)


def test_batch_items_view_the_batch(sample_model, sample_lines):
    batch = sample_model.encode_batch(sample_lines)
    flat = np.frombuffer(batch.ids, dtype=np.uint32)
    begins = np.frombuffer(batch.begins, dtype=np.uint64)
    assert len(begins) == len(sample_lines) + 1 and begins[-1] == len(flat)
    third = batch[3]
    row = np.frombuffer(third, dtype=np.uint32)
    assert np.shares_memory(row, flat)
    assert row.tolist() == flat[begins[3]:begins[4]].tolist()
    want = third.tolist()
    refs = sys.getrefcount(batch)
    del batch, flat, row
    gc.collect()
    assert third.tolist() == want  # a view keeps its batch alive
    assert refs >= 3


def test_offsets_equal_cli(sample_model, sample_model_path):
    """Offsets are bytes of the text passed in: both byte pieces of é start at its byte 1."""
    text = "Hello world\nhéllo\n".encode()
    want = cli_jsonl("-m", sample_model_path, "--offsets", input_bytes=text)
    assert [r["offsets"] for r in want] == [[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11],
                                            [0, 1, 1, 3, 4, 5, 6]]
    texts = lines_of(text)
    for t, record in zip(texts, want):
        ids, offsets = sample_model.encode(t, offsets=True)
        assert offsets.typecode == "Q" and offsets.itemsize == 8
        assert (ids.tolist(), offsets.tolist()) == (record["ids"], record["offsets"])
    batch = sample_model.encode_batch(texts, offsets=True)
    assert [batch.offsets_of(i).tolist() for i in range(2)] == [r["offsets"] for r in want]
    assert batch.offsets.tolist() == want[0]["offsets"] + want[1]["offsets"]
    assert sample_model.encode_batch(["x"]).offsets is None
    with pytest.raises(ValueError):
        sample_model.encode_batch(["x"]).offsets_of(0)


def test_offsets_after_longer_texts_without(sample_model, sample_model_path):
    """Offsets stay right when calls without them have grown the ids in between."""
    sample_model.encode("ab", offsets=True)
    long_text = "Hello world, he\u0301llo " * 500  # é decomposed: NFC changes the text
    sample_model.encode(long_text)
    ids, offsets = sample_model.encode(long_text, offsets=True)
    [want] = cli_jsonl("-m", sample_model_path, "--offsets", input_bytes=long_text.encode())
    assert (ids.tolist(), offsets.tolist()) == (want["ids"], want["offsets"])
    assert len(long_text.encode()) - offsets[-1] == 1  # the last token, " ", at its own byte
    sample_model.encode(long_text * 2, normalize=False)
    raw_ids, raw_offsets = sample_model.encode(long_text, normalize=False, offsets=True)
    pieces = [sample_model.id_to_piece(i) for i in raw_ids]
    assert [sum(map(len, pieces[:k])) for k in range(len(pieces))] == raw_offsets.tolist()
