"""No leak: a million encode calls (and many of every other call) leave the process's
memory and the arguments' reference counts where they were."""
import gc
import os
import resource
import sys

import libbytepiece

# Under AddressSanitizer (BP_SANITIZED=1, set by ctest) freed memory sits in quarantine, so
# the resident size grows whatever the binding does: there the tests check the reference
# counts and let ASan check every access, over fewer calls (ASan is ten times slower).
SANITIZED = os.environ.get("BP_SANITIZED") == "1"
SCALE = 20 if SANITIZED else 1


def assert_no_growth(before_kb, what):
    grown = rss_kb() - before_kb
    assert SANITIZED or grown < 2048, f"memory grew by {grown} KB over {what}"


def rss_kb():
    """The resident set size now (Linux /proc; the peak from getrusage elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_a_million_encode_calls_do_not_grow_memory(sample_model):
    text = "Hello world, héllo 你好"
    data = text.encode()
    for _ in range(50_000 // SCALE):  # warm up: the encoder's scratch space reaches its size
        sample_model.encode(text)
    gc.collect()
    before, text_refs, data_refs = rss_kb(), sys.getrefcount(text), sys.getrefcount(data)
    for i in range(500_000 // SCALE):
        sample_model.encode(text)
        sample_model.encode(data, alpha=0.1, seed=1, index=i)
    gc.collect()
    assert (sys.getrefcount(text), sys.getrefcount(data)) == (text_refs, data_refs)
    assert_no_growth(before, "a million encode calls")


def test_other_calls_do_not_grow_memory(sample_model, sample_lines):
    texts = sample_lines[:20]
    ids = sample_model.encode(texts[0])
    ids_list = ids.tolist()
    dec = libbytepiece.StreamDecoder(sample_model)

    def round_of_calls(i):
        batch = sample_model.encode_batch(texts, offsets=True, alpha=0.1, seed=i)
        batch[3].tolist()
        batch.offsets_of(2)
        sample_model.decode(ids)
        sample_model.decode_str(ids_list)
        sample_model.nbest(texts[1], 3)
        sample_model.encode(texts[2], offsets=True)
        dec.decode(ids)
        dec.flush()
        try:
            sample_model.decode([sample_model.vocab_size])
        except libbytepiece.Error:
            pass

    for i in range(5_000 // SCALE):
        round_of_calls(i)
    gc.collect()
    before, ids_refs = rss_kb(), sys.getrefcount(ids)
    for i in range(40_000 // SCALE):
        round_of_calls(i)
    gc.collect()
    assert sys.getrefcount(ids) == ids_refs
    assert_no_growth(before, "40,000 rounds of calls")
