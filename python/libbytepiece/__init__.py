"""libbytepiece: BytePiece byte-level Unigram tokenization, a thin layer over the C library.

    >>> import libbytepiece
    >>> model = libbytepiece.Model("data/sample.model")
    >>> ids = model.encode("Hello world")          # an Array of uint32 (buffer protocol)
    >>> model.decode_str(ids)
    'Hello world'

Model loads a model (JSON, .zst or native); encode / encode_batch / nbest / decode /
decode_str / StreamDecoder follow the C API (include/bytepiece.h); train() is `bp train`.
Failures of the C library raise libbytepiece.Error with its message.
"""
import os

from ._core import Array, Batch, Error, Model, StreamDecoder, library_version, unicode_version
from ._core import train as _train

__all__ = ["Array", "Batch", "Error", "Model", "StreamDecoder", "train", "library_version",
           "unicode_version"]
__version__ = library_version


def train(files, vocab_size=10000, *, output=None, **options):
    """Trains a model on `files` (a path or paths: plain text, one text per file, or JSONL
    with jsonl=True; zstd-compressed or not) as `bp train` does.

    vocab_size: an int, or a list of ints for several models (largest trained first, each
    cut from the one before, as `bp train --vocab-size A,B`); the result is then a list.
    options: order=6, min_count=2, max_piece_length=36, isolate_digits=False,
    ensure_unicode=True, threads=0 (one per core; the model does not depend on it),
    jsonl=False, field="text", skip_bad_lines=False, temp_dir=None -- the CLI's options.
    output: also write the model there (reference JSON format, atomically); with several
    sizes, to OUTPUT.SIZE for each SIZE, as the CLI.
    Raises libbytepiece.Error (unreadable file, invalid UTF-8, empty corpus, ...).
    """
    models = _train(files, vocab_size, **options)
    if output is not None:
        if isinstance(models, list):
            for size, model in zip(vocab_size, models):
                model.save(f"{os.fspath(output)}.{size}")
        else:
            models.save(output)
    return models
