"""Special tokens: add_special_tokens() makes the model `bp add-tokens` makes, and encode,
decode and the stream decoder treat their ids as `bp encode --special` and
`bp decode --skip-special` do."""
import pytest

import libbytepiece
from conftest import cli_ids, cli_jsonl, lines_of, run_cli

TOKENS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]
CHAT = ("<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHéllo<|endoftext|>\n"
        "<|im_start|><|im_end|>\n<|im_end|x <|endoftext|><|im_start\n").encode()
BAD_SPECIAL = 24


@pytest.fixture(scope="module")
def chat_model_path(tmp_path_factory, sample_model_path):
    path = tmp_path_factory.mktemp("special") / "chat.model"
    run_cli("add-tokens", "-m", sample_model_path, "-o", path, *TOKENS)
    return path


@pytest.fixture(scope="module")
def chat_model(sample_model):
    return sample_model.add_special_tokens(TOKENS)


def test_add_special_tokens_gives_the_file_of_bp_add_tokens(sample_model, chat_model,
                                                            chat_model_path, tmp_path):
    ours = tmp_path / "ours.model"
    chat_model.save(ours, native=True)
    assert ours.read_bytes() == chat_model_path.read_bytes()
    assert libbytepiece.Model(chat_model_path).special_tokens == chat_model.special_tokens


def test_special_tokens_take_the_ids_after_the_pieces(sample_model, chat_model):
    assert sample_model.special_tokens == {} and sample_model.vocab_size == 538
    assert chat_model.special_tokens == {"<|im_start|>": 538, "<|im_end|>": 539,
                                         "<|endoftext|>": 540}
    assert list(chat_model.special_tokens) == TOKENS  # in the order of their ids
    assert chat_model.vocab_size == len(chat_model) == 541
    assert [chat_model.is_special(i) for i in (0, 1, 2, 3, 537, 538, 540, 541, -1, 2**64)] == \
        [False] * 5 + [True, True] + [False] * 3
    assert not sample_model.is_special(538)
    assert chat_model.id_to_piece(539) == b"<|im_end|>"
    assert chat_model.piece_to_id("<|im_end|>") is None  # not a piece
    assert (chat_model.piece_count(540), chat_model.piece_score(540)) == (0, float("-inf"))
    with pytest.raises(TypeError):
        chat_model.is_special("538")


def test_more_tokens_after_the_first(chat_model):
    more = chat_model.add_special_tokens([b"[INST]", "[/INST]"])
    assert more.special_tokens == {**chat_model.special_tokens, "[INST]": 541, "[/INST]": 542}
    assert len(chat_model.special_tokens) == 3  # the model it came from is unchanged


def test_encode_special_equals_cli(chat_model, chat_model_path):
    want = cli_ids("-m", chat_model_path, "--special", input_bytes=CHAT)
    got = [chat_model.encode(t, special=True).tolist() for t in lines_of(CHAT)]
    assert got == want
    assert want[0] == [538, 120, 118, 279, 13]
    assert [chat_model.encode(t).tolist() for t in lines_of(CHAT)] == \
        cli_ids("-m", chat_model_path, input_bytes=CHAT)
    assert 538 not in chat_model.encode(CHAT).tolist()  # without special=True: plain text


def test_encode_special_offsets_and_flags_equal_cli(chat_model, chat_model_path):
    want = cli_jsonl("-m", chat_model_path, "--special", "--offsets", "--bos", "--eos",
                     "--whole", input_bytes=CHAT)
    ids, offsets = chat_model.encode(CHAT.decode(), special=True, offsets=True, bos=True,
                                     eos=True)
    assert [(ids.tolist(), offsets.tolist())] == [(r["ids"], r["offsets"]) for r in want]
    assert (offsets[1], offsets[2]) == (0, 12)  # <|im_start|> at 0, "u" after it


def test_batch_special_equals_single_calls(chat_model):
    texts = lines_of(CHAT)
    for threads in (1, 2):
        batch = chat_model.encode_batch(texts, threads=threads, special=True, offsets=True)
        singles = [chat_model.encode(t, special=True, offsets=True) for t in texts]
        assert batch.tolist() == [ids.tolist() for ids, _ in singles]
        assert [batch.offsets_of(i).tolist() for i in range(len(texts))] == \
            [offsets.tolist() for _, offsets in singles]
    assert chat_model.encode_batch(texts).tolist() == \
        [chat_model.encode(t).tolist() for t in texts]


def test_sampling_with_special_equals_cli(chat_model, chat_model_path):
    want = cli_ids("-m", chat_model_path, "--special", "--alpha", "0.1", "--seed", "7",
                   input_bytes=CHAT)
    texts = lines_of(CHAT)
    assert [chat_model.encode(t, special=True, alpha=0.1, seed=7, index=i).tolist()
            for i, t in enumerate(texts)] == want
    assert chat_model.encode_batch(texts, special=True, alpha=0.1, seed=7).tolist() == want


def test_decode_skip_special_equals_cli(chat_model, chat_model_path):
    ids = [i for t in lines_of(CHAT) for i in chat_model.encode(t, special=True)]
    line = " ".join(map(str, ids)).encode() + b"\n"
    kept = run_cli("decode", "-m", chat_model_path, "--skip-special", input_bytes=line)
    assert kept == b"user\nHi!\nassistant\nH\xc3\xa9llo\n\n<|im_end|x <|im_start\n"
    assert chat_model.decode(ids, skip_special=True) == kept
    assert chat_model.decode_str(ids, skip_special=True) == kept.decode()
    assert chat_model.decode(ids) == run_cli("decode", "-m", chat_model_path,
                                             input_bytes=line) == CHAT
    assert chat_model.decode([538, 539], skip_special=True) == b""


def test_stream_decoder_skip_special_equals_cli(chat_model, chat_model_path):
    ids = chat_model.encode(CHAT, special=True)
    line = " ".join(map(str, ids)).encode() + b"\n"
    want = run_cli("decode", "--stream", "-m", chat_model_path, "--skip-special",
                   input_bytes=line)
    for skip, expected in ((True, want), (False, CHAT)):
        dec = libbytepiece.StreamDecoder(chat_model, skip_special=skip)
        got = b"".join(dec.decode(i) for i in ids) + dec.flush()
        assert got == expected
    dec = libbytepiece.StreamDecoder(chat_model, skip_special=True)
    assert dec.decode(ids.tolist()) + dec.flush() == want


def test_unknown_id_is_reported_at_the_callers_index(chat_model):
    dec = libbytepiece.StreamDecoder(chat_model, skip_special=True)
    for decode in (lambda ids: chat_model.decode(ids, skip_special=True), dec.decode):
        with pytest.raises(libbytepiece.Error) as caught:
            decode([538, 100, 539, 541, 100])
        assert (caught.value.code, caught.value.offset) == (14, 3)
    assert dec.flush() == b""  # the failed call changed nothing


@pytest.mark.parametrize("tokens, index", [
    (["<|a|>", "<|a|>"], 1),
    (["<|a|>", ""], 1),
    ([b""], 0),
    (["<eos>"], 0),
    (["x", "<|im_end|>"], 1),  # already special
    ([b"<|\xff|>"], 0),       # not UTF-8
])
def test_bad_tokens_raise_error_24(chat_model, tokens, index):
    with pytest.raises(libbytepiece.Error) as caught:
        chat_model.add_special_tokens(tokens)
    assert (caught.value.code, caught.value.offset) == (BAD_SPECIAL, index)


def test_misuse_raises_type_error(chat_model):
    with pytest.raises(TypeError, match="list of str or bytes"):
        chat_model.add_special_tokens("<|a|>")  # would add "<", "|", "a", ...
    with pytest.raises(TypeError):
        chat_model.add_special_tokens([42])


def test_json_save_refuses_special_tokens(chat_model, tmp_path):
    path = tmp_path / "chat.json"
    with pytest.raises(libbytepiece.Error) as caught:
        chat_model.save(path)
    assert caught.value.code == BAD_SPECIAL and "3 special tokens" in str(caught.value)
    assert not path.exists()
    chat_model.save(path, native=True)
    assert libbytepiece.Model(path).special_tokens == chat_model.special_tokens
