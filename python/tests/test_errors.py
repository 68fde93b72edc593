"""Failures raise libbytepiece.Error with the C library's message, code and offset;
misuse raises the usual Python exceptions."""
import pytest

import libbytepiece
from libbytepiece import Error, Model


def test_missing_model(tmp_path):
    with pytest.raises(Error) as info:
        Model(tmp_path / "absent.model")
    assert info.value.code == 3 and info.value.name == "cannot read file"
    assert str(info.value) == f"{tmp_path / 'absent.model'}: No such file or directory"


def test_not_a_model(tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"hello, not a model")
    with pytest.raises(Error) as info:
        Model(bad)
    assert info.value.code == 6
    assert "not a model" in str(info.value) and str(bad) in str(info.value)


def test_bad_entry(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"YQ==": [3, "a"]}')
    with pytest.raises(Error) as info:
        Model(bad)
    assert info.value.code == 9 and info.value.offset is not None


def test_unknown_id(sample_model):
    with pytest.raises(Error) as info:
        sample_model.decode([5, 6, 538])
    assert (info.value.code, info.value.offset) == (14, 2)
    assert "538" in str(info.value)


def test_argument_errors(sample_model):
    with pytest.raises(TypeError):
        sample_model.encode(12)
    with pytest.raises(TypeError):
        sample_model.encode_batch(["ok", 12])
    with pytest.raises(ValueError):
        sample_model.encode("x", alpha=-1)
    with pytest.raises(ValueError):
        sample_model.encode("x", alpha=float("nan"))
    with pytest.raises(ValueError):
        sample_model.encode("x", alpha=0.1, seed=-1)
    with pytest.raises(ValueError, match="index must be an int from 0 to 2\\*\\*64-1, not -1"):
        sample_model.encode("x", alpha=0.1, seed=1, index=-1)
    with pytest.raises(ValueError):
        sample_model.encode_batch(["x"], first_index=2**64)
    with pytest.raises(ValueError):
        sample_model.encode_batch(["x"], threads=-1)
    with pytest.raises(ValueError):
        sample_model.decode([-1])
    with pytest.raises(ValueError):
        sample_model.decode([2**32])
    with pytest.raises(ValueError):
        sample_model.nbest("x", 0)
    with pytest.raises(IndexError):
        sample_model.id_to_piece(538)
    with pytest.raises(TypeError):
        sample_model.encode("x", 0.1)  # the options are keywords only


def test_train_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(Error) as info:
        libbytepiece.train([empty], vocab_size=300)
    assert info.value.code == 19
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"caf\xe9 au lait\n" * 10)
    with pytest.raises(Error) as info:
        libbytepiece.train(latin1, vocab_size=300)
    assert info.value.code == 18 and info.value.offset == 3
    with pytest.raises(Error) as info:
        libbytepiece.train(tmp_path / "absent.txt")
    assert info.value.code == 3
    with pytest.raises(TypeError):
        libbytepiece.train(latin1, no_such_option=1)
