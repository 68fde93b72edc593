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
    if not SHARED_MODEL.exists():
        pytest.skip(f"reference model {SHARED_MODEL} is absent (set BP_SHARED_DIR)")
    return libbytepiece.Model(SHARED_MODEL)


def golden_path(name):
    path = SHARED_DIR / "corpus" / name
    if not path.exists():
        pytest.skip(f"golden text {path} is absent (set BP_SHARED_DIR)")
    return path
