#!/usr/bin/env python3
"""Builds a local store of 100,000 images and 500,000 answers for measuring the TUI at scale.

    hotdog-tui --data-dir D stats          # once: creates D with the 20 sample images
    python3 scripts/big-store.py D         # 100,000 images (hard links to the samples)
    hotdog-tui --data-dir D index rebuild  # the label index, as a worker would keep it

Each image gets 5 answers from 20 labellers ("labeller-00"…), a quarter of them skips,
with times over November 2026 and answer ids as the product writes them (32 hex digits).
The files are written straight into the local store's layout (`objects/images/<name>`,
`objects/labels/<name>.txt`), which is far faster than 500,000 answers through the queue;
`bench stats --images 100000` seeds through the product's own paths instead, but into a
scratch prefix it removes afterwards. Deterministic: the same store every time.
"""
import datetime
import os
import random
import sys
import uuid


def main(root: str, count: int = 100_000) -> None:
    images = os.path.join(root, "objects", "images")
    samples = sorted(n for n in os.listdir(images) if not n.startswith("img-"))
    if not samples:
        sys.exit(f"no sample images in {images}: run `hotdog-tui --data-dir {root} stats` first")
    labels = os.path.join(root, "objects", "labels")
    os.makedirs(labels, exist_ok=True)
    rng = random.Random(7)
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
    people = [f"labeller-{i:02d}" for i in range(20)]
    answers = 0
    for i in range(count):
        name = f"img-{i:06d}.jpg"
        path = os.path.join(images, name)
        if not os.path.exists(path):
            os.link(os.path.join(images, samples[i % len(samples)]), path)
        lines = []
        for who in rng.sample(people, 5):
            t = start + datetime.timedelta(milliseconds=rng.randrange(30 * 86400 * 1000))
            at = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
            code = rng.choice(["1", "0", "1", "s"])
            lines.append(f"{code}\t{at}\t{who}\t{uuid.UUID(int=rng.getrandbits(128)).hex}\n")
            answers += 1
        with open(os.path.join(labels, name + ".txt"), "w") as f:
            f.write("".join(lines))
    print(f"{count} images, {answers} answers in {root}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
