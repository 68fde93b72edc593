"""Shared fixtures of the binding's tests: the CLI to compare with, the models and texts.

Environment (set by ctest): BP_CLI, the bp executable; BP_DATA_DIR, the project's data/;
BP_SHARED_DIR, the reference folder (../shared): tests that need it skip when it is absent.
"""
import io
import json
import os
import subprocess
from pathlib import Path

import pytest

import libbytepiece

DATA_DIR = Path(os.environ.get("BP_DATA_DIR", Path(__file__).resolve().parents[2] / "data"))
SHARED_DIR = Path(os.environ.get("BP_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
SHARED_MODEL = SHARED_DIR / "reference/models/bytepiece.plus.80k.model.zst"
GOLDEN_TEXTS = ["golden_en.txt", "golden_zh.txt", "golden_edge.txt"]


def cli_path():
    cli = os.environ.get("BP_CLI")
    if not cli:
        pytest.skip("BP_CLI is not set (ctest sets it to the bp executable)")
    return cli


def run_cli(*args, input_bytes=None):
    """Runs `bp ARGS...` and returns its standard output (bytes); a failure fails the test."""
    done = subprocess.run([cli_path(), *map(str, args)], input=input_bytes, capture_output=True)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def cli_ids(*args, input_bytes=None):
    """The ids of `bp encode ARGS...`, one list per output line."""
    out = run_cli("encode", *args, input_bytes=input_bytes)
    return [[int(t) for t in line.split()] for line in out.decode().splitlines()]


def cli_jsonl(*args, input_bytes=None):
    out = run_cli("encode", "--output-format", "jsonl", *args, input_bytes=input_bytes)
    return [json.loads(line) for line in out.decode().splitlines()]


def lines_of(data):
    """The texts of `bp encode` line mode: each line with its b'\\n'; a last line without one
    as it is."""
    return io.BytesIO(data).readlines()


@pytest.fixture(scope="session")
def sample_model_path():
    return DATA_DIR / "sample.model"


@pytest.fixture(scope="session")
def sample_model(sample_model_path):
    return libbytepiece.Model(sample_model_path)


@pytest.fixture(scope="session")
def sample_lines():
    return lines_of((DATA_DIR / "sample.txt").read_bytes())


@pytest.fixture(scope="session")
def shared_model():
    skip_without_shared(SHARED_MODEL)
    return libbytepiece.Model(SHARED_MODEL)


def skip_without_shared(path):
    """Skips the test when `path` of the reference folder is absent; fails it instead under
    BP_REQUIRE_SHARED=1 (CI), as the C tests do."""
    if path.exists():
        return
    message = f"{path} is absent (set BP_SHARED_DIR)"
    if os.environ.get("BP_REQUIRE_SHARED") == "1":
        pytest.fail(message + " and BP_REQUIRE_SHARED=1")
    pytest.skip(message)


def golden_path(name):
    path = SHARED_DIR / "corpus" / name
    skip_without_shared(path)
    return path
