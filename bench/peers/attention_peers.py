"""Attention peers: the materialized softmax(Q K^T s) V in NumPy (OpenBLAS)
and in PyTorch, and torch's scaled_dot_product_attention where the installed
PyTorch has it, on n = m, d = dv as `opk bench --kernel attention` (softmax
mode), rated with the same 4*n*m*d flops. Not part of the test suite.
NumPy uses the system BLAS: install OpenBLAS (Debian: libopenblas0-pthread)
for a fair peer; with the reference BLAS it runs at about 4 GFLOP/s here
instead of 50.

Usage: attention_peers.py [--n 4096] [--d 64] [--threads 2] [--opk build/opk]
"""
import argparse
import os
import subprocess

from peertime import median_time

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--n", type=int, default=4096)
p.add_argument("--d", type=int, default=64)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--reps", type=int, default=5)
p.add_argument("--opk", help="also run `opk bench --kernel attention` (avx512)")
a = p.parse_args()
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, str(a.threads))
try:
    import numpy as np
except ImportError as e:
    raise SystemExit(f"skipped: {e} (Debian: python3-numpy)")
n, d = a.n, a.d
rng = np.random.default_rng(1)
Q = rng.uniform(-1, 1, (n, d)).astype(np.float32)
K = rng.uniform(-1, 1, (n, d)).astype(np.float32)
V = rng.uniform(-1.5, 1, (n, d)).astype(np.float32)
scale = np.float32(1 / np.sqrt(d))
flops = 4.0 * n * n * d


def numpy_attn():
    S = (Q @ K.T) * scale
    S -= S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S @ V


def show(name, s):
    print(f"{name:34s} {1e3 * s:9.2f} ms  {flops / s / 1e9:8.1f} GFLOP/s")


print(f"softmax attention n = m = {n}, d = dv = {d}, {a.threads} threads")
show("numpy materialized", median_time(numpy_attn, a.reps))
try:
    import torch
    torch.set_num_threads(a.threads)
    q, k, v = (torch.from_numpy(x) for x in (Q, K, V))
    with torch.no_grad():
        show(f"torch {torch.__version__} materialized",
             median_time(lambda: torch.softmax((q @ k.T) * scale, dim=1) @ v,
                         a.reps))
        sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
        if sdpa:
            show("torch scaled_dot_product_attention",
                 median_time(lambda: sdpa(q[None], k[None], v[None]), a.reps))
        else:
            print(f"torch {torch.__version__} has no scaled_dot_product_attention")
except ImportError:
    print("torch not installed: skipped")
if a.opk:
    out = subprocess.run([a.opk, "bench", "--kernel", "attention", "--backend",
                          "avx512", "--threads", str(a.threads),
                          "--size", f"{n}x{n}x{d}x{d}"],
                         capture_output=True, text=True).stdout
    print("\n".join(l for l in out.splitlines() if l.startswith("attention")))
