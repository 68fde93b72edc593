"""encode_batch on several threads, and from several Python threads at once."""
import threading

from conftest import golden_path, lines_of


def test_threads_give_the_same_ids(sample_model, sample_lines):
    texts = sample_lines * 200  # about 2.4 MB: large enough for the batch to use threads
    want = sample_model.encode_batch(texts, threads=1).tolist()
    for threads in (2, 3, 0):
        assert sample_model.encode_batch(texts, threads=threads).tolist() == want
    sampled = sample_model.encode_batch(texts, alpha=0.1, seed=9, threads=1).tolist()
    assert sample_model.encode_batch(texts, alpha=0.1, seed=9, threads=2).tolist() == sampled


def test_python_threads_share_a_model(sample_model, sample_lines):
    texts = sample_lines * 50
    want = sample_model.encode_batch(texts, threads=1).tolist()
    results, errors = {}, []

    def work(k):
        try:
            for _ in range(5):
                results[k] = sample_model.encode_batch(texts, threads=2).tolist()
        except Exception as e:  # reported below: a thread's exception is otherwise lost
            errors.append(e)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert all(results[k] == want for k in range(4))


def test_golden_threads(shared_model):
    lines = lines_of(golden_path("golden_zh.txt").read_bytes())
    assert shared_model.encode_batch(lines, threads=2).tolist() == \
        shared_model.encode_batch(lines, threads=1).tolist()
