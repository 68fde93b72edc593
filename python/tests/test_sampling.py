"""Sampling equals `bp encode --alpha A --seed S`: text k of the run from stream (S, k)."""
import pytest

from conftest import DATA_DIR, SHARED_MODEL, cli_ids, golden_path, lines_of

MODEL = DATA_DIR / "sample.model"


@pytest.mark.parametrize("alpha,seed", [(0.1, 42), (0.0, 7), (1.0, 2**64 - 1)])
def test_batch_sampling_equals_cli(sample_model, sample_lines, alpha, seed):
    want = cli_ids("-m", MODEL, "--alpha", alpha, "--seed", seed, DATA_DIR / "sample.txt")
    best = sample_model.encode_batch(sample_lines).tolist()
    assert want != best  # the samples are not simply the best segmentation
    for threads in (1, 2):
        got = sample_model.encode_batch(sample_lines, alpha=alpha, seed=seed, threads=threads)
        assert got.tolist() == want


def test_encode_index_equals_cli_text_k(sample_model, sample_lines):
    want = cli_ids("-m", MODEL, "--alpha", 0.1, "--seed", 42, DATA_DIR / "sample.txt")
    got = [sample_model.encode(t, alpha=0.1, seed=42, index=k).tolist()
           for k, t in enumerate(sample_lines)]
    assert got == want


def test_first_index_continues_a_run(sample_model, sample_lines):
    whole = sample_model.encode_batch(sample_lines, alpha=0.1, seed=5).tolist()
    tail = sample_model.encode_batch(sample_lines[10:], alpha=0.1, seed=5, first_index=10)
    assert tail.tolist() == whole[10:]


def test_same_seed_same_sample_other_seed_other_sample(sample_model):
    text = "Tokenizers split text into pieces " * 4
    a = sample_model.encode(text, alpha=0.1, seed=1, index=3)
    assert sample_model.encode(text, alpha=0.1, seed=1, index=3) == a
    others = {tuple(sample_model.encode(text, alpha=0.1, seed=s, index=3)) for s in range(2, 12)}
    assert len(others | {tuple(a)}) > 1


def test_golden_sampling_equals_cli(shared_model):
    path = golden_path("golden_en.txt")
    want = cli_ids("-m", SHARED_MODEL, "--alpha", 0.1, "--seed", 42, path)
    lines = lines_of(path.read_bytes())
    assert shared_model.encode_batch(lines, alpha=0.1, seed=42, threads=2).tolist() == want
