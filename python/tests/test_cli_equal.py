"""The binding gives the CLI's ids: on the golden texts of ../shared with the reference
model, and on data/ with the sample model, line by line and whole, with encode() and
encode_batch()."""
import pytest

import libbytepiece

from conftest import DATA_DIR, GOLDEN_TEXTS, SHARED_MODEL, cli_ids, golden_path, lines_of


@pytest.mark.parametrize("name", GOLDEN_TEXTS)
def test_golden_lines_equal_cli(shared_model, name):
    path = golden_path(name)
    want = cli_ids("-m", SHARED_MODEL, path)
    lines = lines_of(path.read_bytes())
    assert len(want) == len(lines) > 0
    assert shared_model.encode_batch(lines, threads=1).tolist() == want
    assert shared_model.encode_batch(lines, threads=2).tolist() == want
    # one call per text: a few hundred lines are enough to show encode() is the same
    assert [shared_model.encode(t).tolist() for t in lines[:300]] == want[:300]


@pytest.mark.parametrize("name", GOLDEN_TEXTS)
def test_golden_whole_equal_cli(shared_model, name):
    path = golden_path(name)
    want = cli_ids("-m", SHARED_MODEL, "--whole", path)
    assert shared_model.encode(path.read_bytes()).tolist() == want[0]


def test_golden_edge_options_equal_cli(shared_model):
    path = golden_path("golden_edge.txt")
    lines = lines_of(path.read_bytes())
    for flags, kwargs in [(["--no-normalize"], {"normalize": False}),
                          (["--bos", "--eos"], {"bos": True, "eos": True})]:
        want = cli_ids("-m", SHARED_MODEL, *flags, path)
        assert shared_model.encode_batch(lines, **kwargs).tolist() == want
        assert [shared_model.encode(t, **kwargs).tolist() for t in lines] == want


@pytest.mark.parametrize("name", ["sample.txt", "hello.txt"])
def test_data_equal_cli(sample_model, name):
    path = DATA_DIR / name
    want = cli_ids("-m", DATA_DIR / "sample.model", path)
    lines = lines_of(path.read_bytes())
    assert sample_model.encode_batch(lines).tolist() == want
    assert [sample_model.encode(t).tolist() for t in lines] == want
    # a str is encoded as its UTF-8
    assert [sample_model.encode(t.decode()).tolist() for t in lines] == want


def test_native_and_zst_models_load(tmp_path, sample_model, sample_lines):
    native = tmp_path / "sample.bpm"
    sample_model.save(native, native=True)
    loaded = libbytepiece.Model(native)
    assert loaded.is_native and not sample_model.is_native
    assert loaded.encode_batch(sample_lines).tolist() == sample_model.encode_batch(sample_lines).tolist()
    if SHARED_MODEL.exists():  # the reference model is zstd-compressed JSON
        assert libbytepiece.Model(SHARED_MODEL).vocab_size == 79812
