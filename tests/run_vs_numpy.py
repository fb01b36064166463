"""`opk run softmax` against NumPy on files made by NumPy.

Usage: run_vs_numpy.py OPK_BINARY WORKDIR. Exits 77 (skipped) without NumPy.
Bound: the softmax bound of tools/refdouble.h, evaluated here in float64.
"""
import os
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipped")
    sys.exit(77)

opk, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(7)
failures = 0
for shape, axis, log, beta in [((37, 129), "rows", False, 1.0),
                               ((64, 33), "cols", False, 0.5),
                               ((5, 1000), "rows", True, -1.25),
                               ((300,), "rows", False, 2.0)]:
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    xin, yout = os.path.join(work, "x.npy"), os.path.join(work, "y.npy")
    np.save(xin, x)
    cmd = [opk, "run", "softmax", "--in", f"X={xin}", "--out", yout,
           "--axis", axis, "--beta", repr(beta)] + (["--log"] if log else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print("FAILED:", " ".join(cmd), out.stderr)
        failures += 1
        continue
    y = np.load(yout)
    x2 = np.atleast_2d(x).astype(np.float64)
    ax = 1 if axis == "rows" else 0
    t = np.float64(np.float32(beta)) * x2
    m = t.max(axis=ax, keepdims=True)
    s = np.exp(t - m).sum(axis=ax, keepdims=True)
    ref = (t - m) - np.log(s) if log else np.exp(t - m) / s
    ref = ref.reshape(y.shape)
    n = x2.shape[ax]
    T = np.abs(t).max()
    L = n / 16 + 4 if axis == "rows" else n
    tol = 2.0**-24 * (8 * T + L + 2 * np.log2(max(n, 1)) + 8)
    denom = np.maximum(np.abs(ref), 1.0 if log else np.finfo(np.float32).tiny)
    err = float(np.max(np.abs(y - ref) / denom))
    ok = y.dtype == np.float32 and y.shape == x.shape and err <= tol
    print(f"{shape} axis={axis} log={log} beta={beta}: max err {err:.3g} "
          f"(bound {tol:.3g}) {'ok' if ok else 'FAILED'}; {out.stdout.strip()}")
    failures += not ok
print(f"run_vs_numpy: {4 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
