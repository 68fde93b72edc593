"""train() is `bp train`: the same files and options give the same model, byte for byte."""
import libbytepiece
from conftest import DATA_DIR, run_cli


def test_train_equals_the_sample_model(tmp_path):
    out = tmp_path / "sample.model"
    model = libbytepiece.train(DATA_DIR / "sample.txt", vocab_size=1000, output=out, threads=2)
    assert model.vocab_size == 538
    assert out.read_bytes() == (DATA_DIR / "sample.model").read_bytes()


def test_train_options_and_sizes_equal_cli(tmp_path):
    cli_out = tmp_path / "cli.model"
    run_cli("train", "-q", "-o", cli_out, "--vocab-size", "600,400", "--order", 4,
            "--min-count", 3, "--max-piece-length", 8, "--isolate-digits",
            "--no-ensure-unicode", DATA_DIR / "sample.txt", DATA_DIR / "hello.txt")
    out = tmp_path / "py.model"
    models = libbytepiece.train([DATA_DIR / "sample.txt", str(DATA_DIR / "hello.txt")],
                                vocab_size=[600, 400], output=out, order=4, min_count=3,
                                max_piece_length=8, isolate_digits=True, ensure_unicode=False)
    assert len(models) == 2
    for size, model in zip((600, 400), models):
        assert (tmp_path / f"py.model.{size}").read_bytes() == \
            (tmp_path / f"cli.model.{size}").read_bytes()
        assert model.vocab_size == libbytepiece.Model(tmp_path / f"cli.model.{size}").vocab_size


def test_train_jsonl(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"body": "hello world hello"}\n{"body": "world of hello"}\n' * 20)
    cli_out = tmp_path / "cli.model"
    run_cli("train", "-q", "-o", cli_out, "--vocab-size", 300, "--jsonl", "--field", "body",
            corpus)
    libbytepiece.train(corpus, 300, output=tmp_path / "py.model", jsonl=True, field="body")
    assert (tmp_path / "py.model").read_bytes() == cli_out.read_bytes()
