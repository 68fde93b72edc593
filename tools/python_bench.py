"""Encoding speed from Python beside the CLI: prints, per input, the throughput of
`bp encode` on one thread, of Model.encode_batch on 1 and 2 threads, and of
SentencePiece's Python module (where installed) on the same lines, in MB/s of input.

    PYTHONPATH=build/python python3 tools/python_bench.py [--bp build/bp] [--shared ../shared]
                                                    [--reps 5]

Each figure is the median of --reps runs; the runs of the contenders alternate (round 1
of each, then round 2, ...), so that a noisy, shared machine slows them alike. The CLI
is timed as a process (its wall time, and its CPU time, which a busy machine distorts
less; reading the file, encoding, writing ids to /dev/null) on the
native form of the model, whose load takes milliseconds; encode_batch is timed on the
lines already in memory, as a data loader has them, --batch-lines lines per call (4096: one
call for a 37 MB file would spend its time faulting in 300 MB of fresh result memory, which
no loader does); its input is bytes, and str (fresh
objects each round, so that each pays its UTF-8 conversion) on one thread.
SentencePiece encodes with its own model (peers/sp_unigram32k.model), lines as str,
num_threads=1: another model, so a rough yardstick only.
"""
import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libbytepiece

ROOT = Path(__file__).resolve().parents[1]


def read_input(path):
    """The bytes of a text file, decompressed when it is zstd (by the zstd tool)."""
    if path.suffix == ".zst":
        return subprocess.run(["zstd", "-qdc", path], check=True, capture_output=True).stdout
    return path.read_bytes()


def cpu_seconds():
    """CPU time of this process (all its threads) and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def timed(run, prepare=None):
    """(wall seconds, CPU seconds) of run(prepare()), prepare() not timed."""
    arg = prepare() if prepare else None
    wall, cpu = time.perf_counter(), cpu_seconds()
    run(arg)
    return time.perf_counter() - wall, cpu_seconds() - cpu


def contenders(bp, native_model, model, sp, path, lines, batch_lines):
    """label -> (run, prepare): run(prepare()) is timed without prepare()."""
    def cli(_):
        with open(os.devnull, "wb") as null:
            subprocess.run([bp, "encode", "-m", native_model, "--threads", "1", path],
                           stdout=null, check=True)

    def fresh_str():  # new str objects, without the UTF-8 form an earlier round cached
        return [line.decode("utf-8", "surrogateescape") for line in lines]

    def batches(texts, threads):
        return [model.encode_batch(texts[i:i + batch_lines], threads=threads)
                for i in range(0, len(texts), batch_lines)]

    found = {
        "bp encode (CLI, 1 thread)": (cli, None),
        "encode_batch, 1 thread, bytes": (lambda _: batches(lines, 1), None),
        "encode_batch, 1 thread, str": (lambda texts: batches(texts, 1), fresh_str),
        "encode_batch, 2 threads, bytes": (lambda _: batches(lines, 2), None),
    }
    if sp is not None:
        sp_texts = [line.decode("utf-8", "replace") for line in lines]
        found["sentencepiece (Python, 1 thread)"] = (
            lambda _: sp.encode(sp_texts, num_threads=1), None)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bp", default=str(ROOT / "build" / "bp"))
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--batch-lines", type=int, default=4096,
                        help="lines per encode_batch call (what a data loader's batch holds)")
    parser.add_argument("--inputs", default="golden_en.txt,golden_zh.txt,bench_mix.txt.zst",
                        help="files of SHARED/corpus, comma-separated")
    args = parser.parse_args()
    shared = Path(args.shared)
    model_path = shared / "reference/models/bytepiece.plus.80k.model.zst"
    if not model_path.exists():
        sys.exit(f"bench.py: {model_path} is absent (give --shared)")
    try:
        import sentencepiece
        sp = sentencepiece.SentencePieceProcessor(model_file=str(shared / "peers/sp_unigram32k.model"))
    except (ImportError, OSError) as e:
        print(f"(sentencepiece not measured: {e})")
        sp = None
    model = libbytepiece.Model(model_path)
    with tempfile.TemporaryDirectory() as tmp:
        native = Path(tmp) / "model.bpm"
        model.save(native, native=True)
        for name in args.inputs.split(","):
            source = shared / "corpus" / name
            data = read_input(source)
            path = Path(tmp) / "input.txt"
            path.write_bytes(data)
            lines = io.BytesIO(data).readlines()  # lines as `bp encode` cuts them
            runs = contenders(args.bp, native, model, sp, path, lines, args.batch_lines)
            times = {label: [] for label in runs}
            for _ in range(args.reps):
                for label, (run, prepare) in runs.items():
                    times[label].append(timed(run, prepare))
            mb = len(data) / 1e6
            cli = times["bp encode (CLI, 1 thread)"]
            cli_wall = mb / statistics.median(w for w, _ in cli)
            cli_cpu = mb / statistics.median(c for _, c in cli)
            print(f"{name}: {mb:.1f} MB, {len(lines)} lines, median of {args.reps}; MB/s of"
                  " wall time, and per CPU second")
            for label, t in times.items():
                wall = mb / statistics.median(w for w, _ in t)
                cpu = mb / statistics.median(c for _, c in t)
                print(f"  {label:34s} wall {wall:6.1f} ({wall / cli_wall:4.2f}x the CLI)"
                      f"  CPU {cpu:6.1f} ({cpu / cli_cpu:4.2f}x)")


if __name__ == "__main__":
    main()
