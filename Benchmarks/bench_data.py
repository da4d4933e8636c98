"""Readers for the data layout of shared/bench/gen_dataset.py, shared by the peer scripts."""
import json

import numpy as np


def read_vecs(path, n=None, dtype=np.float32):
    """TEXMEX .fvecs/.ivecs: each row is int32 d followed by d 4-byte values."""
    raw = np.memmap(path, dtype=np.int32, mode="r")
    d = int(raw[0])
    rows = raw.reshape(-1, d + 1)
    if n is not None:
        rows = rows[:n]
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def read_payloads(path, n):
    """The first n objects of payload.jsonl."""
    out = []
    with open(path) as f:
        for line in f:
            if len(out) == n:
                break
            out.append(json.loads(line))
    if len(out) < n:
        raise SystemExit(f"{path}: only {len(out)} payloads, need {n}")
    return out
