"""The data-loader example (python/examples/dataloader.py) runs, resamples every epoch,
reproduces a run from its seed, and samples as `bp encode` with the epoch's seed."""
import subprocess
import sys
from pathlib import Path

from conftest import DATA_DIR, cli_ids

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dataloader.py"
sys.path.insert(0, str(EXAMPLE.parent))
import dataloader  # noqa: E402  (the example itself, imported from its folder)


def run_example(*args):
    done = subprocess.run([sys.executable, EXAMPLE, DATA_DIR / "sample.model",
                           DATA_DIR / "sample.txt", *map(str, args)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_example_runs_and_is_reproducible():
    out = run_example("--epochs", 3, "--seed", 99)
    assert len(out) == 3 and all(line.startswith(f"epoch {e}: seed ") for e, line in enumerate(out))
    first_texts = [line.split(" -> ")[1] for line in out]
    assert len(set(first_texts)) > 1  # a fresh segmentation each epoch
    assert run_example("--epochs", 3, "--seed", 99) == out  # the seed fixes the run
    assert run_example("--epochs", 3, "--seed", 100) != out


def test_epoch_samples_equal_cli(sample_model, sample_lines):
    seed = dataloader.epoch_seed(99, 2)
    got = []
    for first, batch in dataloader.batches(sample_model, sample_lines, 2, seed=99,
                                           batch_size=7, threads=2):
        assert len(got) == first
        got.extend(batch.tolist())
    want = cli_ids("-m", DATA_DIR / "sample.model", "--alpha", 0.1, "--seed", seed, "--eos",
                   DATA_DIR / "sample.txt")
    assert got == want
