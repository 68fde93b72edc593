"""A training data loader with subword regularization: every epoch sees a fresh
segmentation of every text, and the whole run is reproducible from one seed.

Text i of epoch e is sampled from stream i of the seed derived from (seed, e), so a batch
draws the same tokens whichever worker encodes it, in whatever order, on however many
threads -- and `bp encode --alpha A --seed S` with S = epoch_seed(seed, e) gives the same
ids for the corpus's lines.

    python3 dataloader.py MODEL TEXTFILE [--epochs N] [--alpha A] [--seed S]
prints, per epoch, its seed, the number of tokens and the ids of the first text.
"""
import argparse
import hashlib

import libbytepiece


def epoch_seed(seed, epoch):
    """A 64-bit seed for epoch `epoch` of a run seeded `seed` (any ints)."""
    digest = hashlib.blake2b(f"{seed}:{epoch}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def batches(model, texts, epoch, *, seed, alpha=0.1, batch_size=64, threads=0):
    """Yields (index of the first text, Batch) for one epoch: texts[i:i + batch_size] encoded
    with a fresh sample; text i draws from stream i of the epoch's seed."""
    s = epoch_seed(seed, epoch)
    for first in range(0, len(texts), batch_size):
        chunk = texts[first:first + batch_size]
        yield first, model.encode_batch(chunk, alpha=alpha, seed=s, first_index=first,
                                        threads=threads, eos=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("text")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    model = libbytepiece.Model(args.model)
    with open(args.text, "rb") as f:
        texts = list(f)  # lines with their b"\n", as `bp encode` cuts them
    for epoch in range(args.epochs):
        tokens, first_ids = 0, None
        for first, batch in batches(model, texts, epoch, seed=args.seed, alpha=args.alpha):
            tokens += len(batch.ids)
            if first == 0:
                first_ids = batch[0].tolist()
        print(f"epoch {epoch}: seed {epoch_seed(args.seed, epoch)}, {tokens} tokens, "
              f"text 0 -> {first_ids}")


if __name__ == "__main__":
    main()
