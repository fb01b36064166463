"""Sinkhorn peers: a PyTorch log-domain loop (logsumexp alternation, the
usual Sinkformer/POT-log formulation) on the same data as `opk bench
--kernel sinkhorn` (S = fill(1, -3, 2), beta 1, a = 1, b = n/m), timed per
iteration. POT is used too when installed (`ot.sinkhorn(method=
"sinkhorn_log")` and plain `ot.sinkhorn`). Not part of the test suite.

Usage: sinkhorn_peers.py [--n 4096] [--iters 10] [--threads 2]
                         [--opk build/opk]
"""
import argparse
import subprocess
import time
import warnings

# stopThr = 0 runs exactly --iters iterations: POT's "did not converge" is
# expected.
warnings.filterwarnings("ignore", message="Sinkhorn did not converge")

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--n", type=int, default=4096)
p.add_argument("--iters", type=int, default=10)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--opk", help="also run `opk bench --kernel sinkhorn` (avx512)")
a = p.parse_args()


def opk_rows():
    """opk's rows on n x n (10 and 100 iterations a call), per iteration."""
    out = subprocess.run([a.opk, "bench", "--kernel", "sinkhorn", "--backend",
                          "avx512", "--threads", str(a.threads), "--size",
                          f"{a.n}x{a.n}"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        t = line.split()
        if len(t) > 6 and t[0] == "sinkhorn" and t[1].endswith("it"):
            per = float(t[6]) / int(t[1][:-2])
            print(f"{line}\n  opk {t[1]} {t[2]} {t[3]}, {t[4]} threads: "
                  f"{per:.3f} ms per iteration (median)")

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
    M = -S.numpy()
    w = np.ones(n) / n
    for method in ("sinkhorn_log", "sinkhorn"):
        t = time.perf_counter()
        ot.sinkhorn(w, w, M, 1.0, method=method, numItermax=a.iters, stopThr=0)
        print(f"POT {method}: {1e3 * (time.perf_counter() - t) / a.iters:.1f} "
              "ms per iteration")
except ImportError:
    print("POT (python3-pot / pip pot) not installed: skipped")
if a.opk:
    opk_rows()
