"""Sinkhorn peers: a PyTorch log-domain loop (logsumexp alternation, the
usual Sinkformer/POT-log formulation) on the same data as `opk bench
--kernel sinkhorn` (S = fill(1, -3, 2), beta 1, a = 1, b = n/m), timed per
iteration. POT is used too when installed (`ot.sinkhorn(method=
"sinkhorn_log")` and plain `ot.sinkhorn`). Not part of the test suite.

Usage: sinkhorn_peers.py [--n 4096] [--iters 10] [--threads 2]
"""
import argparse
import time

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--n", type=int, default=4096)
p.add_argument("--iters", type=int, default=10)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
try:
    import numpy as np
    import torch
except ImportError as e:
    raise SystemExit(f"skipped: {e} (Debian: python3-torch, python3-numpy)")
torch.set_num_threads(a.threads)
n = a.n
rng = np.random.default_rng(1)
S = torch.from_numpy(rng.uniform(-3, 2, (n, n)).astype(np.float32))
loga = torch.zeros(n)
logb = torch.zeros(n)
f = torch.zeros(n)
g = torch.zeros(n)


def loop():
    global f, g
    for _ in range(a.iters):
        f = loga - torch.logsumexp(S + g[None, :], dim=1)
        g = logb - torch.logsumexp(S + f[:, None], dim=0)


loop()
best = []
for _ in range(3):
    t = time.perf_counter()
    loop()
    best.append((time.perf_counter() - t) / a.iters)
print(f"torch logsumexp loop {n}x{n}, {a.threads} threads: "
      f"{1e3 * sorted(best)[1]:.1f} ms per iteration (median of 3)")
try:
    import ot
except ImportError:
    print("POT (python3-pot / pip pot) not installed: skipped")
    raise SystemExit(0)
K = np.exp(S.numpy().astype(np.float64))
M = -S.numpy()
w = np.ones(n) / n
for method in ("sinkhorn_log", "sinkhorn"):
    t = time.perf_counter()
    ot.sinkhorn(w, w, M, 1.0, method=method, numItermax=a.iters, stopThr=0)
    print(f"POT {method}: {1e3 * (time.perf_counter() - t) / a.iters:.1f} ms per iteration")
