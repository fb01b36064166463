"""`opk run attention` against NumPy on files made by NumPy: every
normalization, damping, H given or not, and a heat-filtered graph term
(NumPy: eigendecomposition of the normalized Laplacian).

Usage: attention_vs_numpy.py OPK_BINARY WORKDIR. Exits 77 (skipped) without
NumPy. Bound (a sanity check across tools; the exact bounds are in
tools/refdouble.h and tests/test_attention.c): |O - ref| <= 2^-24 * 4 *
(m + d + 16) * (max|V| + max|H|), plus 1e-6 for the Chebyshev truncation of
the heat filter (order 16 on [0, 2], t = 1).
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
rng = np.random.default_rng(11)


def save(name, x):
    path = os.path.join(work, name + ".npy")
    np.save(path, x.astype(np.float32))
    return path


def normalize(S, norm, iters, n, m):
    if norm == "softmax":
        A = np.exp(S - S.max(1, keepdims=True))
        return A / A.sum(1, keepdims=True)
    if norm == "sigmoid":
        W = 1 / (1 + np.exp(-S))
        return W / W.sum(1, keepdims=True)
    # sinkhorn: half-steps from g = 0, rows first; a = 1, b = n/m
    f, g = np.zeros(n), np.zeros(m)
    for h in range(iters):
        if h % 2 == 0:
            f = -np.log(np.exp(S + g[None, :]).sum(1))
        else:
            g = np.log(n / m) - np.log(np.exp(S + f[:, None]).sum(0))
    return np.exp(S + f[:, None] + g[None, :])


def linear(Q, K, V, glob):
    if glob:
        q, k = Q / np.linalg.norm(Q), K / np.linalg.norm(K)
    else:
        q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        k = K / np.linalg.norm(K, axis=1, keepdims=True)
    num = V.sum(0)[None, :] + q @ (k.T @ V)
    den = K.shape[0] + q @ k.sum(0)
    return num / den[:, None]


def ring_graph(n, path):
    with open(path, "w") as f:
        f.write("%%MatrixMarket matrix coordinate pattern symmetric\n")
        f.write(f"{n} {n} {n}\n")
        for i in range(n):
            a, b = i + 1, (i + 1) % n + 1
            f.write(f"{max(a, b)} {min(a, b)}\n")
    A = np.zeros((n, n))
    for i in range(n):
        A[i, (i + 1) % n] = A[(i + 1) % n, i] = 1
    deg = A.sum(1)
    L = np.eye(n) - A / np.sqrt(np.outer(deg, deg))
    w, U = np.linalg.eigh(L)
    return U @ np.diag(np.exp(-w)) @ U.T


cases = [  # norm, n, m, d, dv, tau, beta, H?, extra options
    ("softmax", 37, 70, 19, 23, 0.3, 1.5, True, []),
    ("softmax", 40, 40, 8, 5, 1.0, -2.0, False, []),
    ("sigmoid", 25, 130, 33, 17, 0.7, 1.0, True, []),
    ("sinkhorn", 30, 45, 12, 9, 1.0, 1.0, True, ["--iters", "3"]),
    ("sinkhorn", 30, 30, 12, 9, 0.5, 1.0, False, ["--iters", "4"]),
    ("linear", 50, 80, 16, 16, 1.0, 1.0, True, []),
    ("linear", 60, 60, 16, 7, 0.6, 1.0, False, ["--global-norm"]),
    ("softmax", 24, 24, 10, 6, 0.8, 1.0, True, ["graph"]),
    ("linear", 24, 24, 10, 6, 1.0, 1.0, False, ["graph"]),
]
failures = 0
for norm, n, m, d, dv, tau, beta, with_h, extra in cases:
    Q = rng.uniform(-1, 2, (n, d)).astype(np.float32)
    K = rng.uniform(-1, 2, (m, d)).astype(np.float32)
    V = rng.uniform(-1.5, 1, (m, dv)).astype(np.float32)
    H = rng.uniform(-0.5, 2, (n, dv)).astype(np.float32) if with_h else V
    out = os.path.join(work, "O.npy")
    cmd = [opk, "run", "attention", "--in", f"Q={save('Q', Q)}",
           "--in", f"K={save('K', K)}", "--in", f"V={save('V', V)}",
           "--norm", norm, "--tau", repr(tau), "--beta", repr(beta),
           "--out", out]
    if with_h:
        cmd += ["--in", f"H={save('H', H)}"]
    G, lg = None, 0.0
    if "graph" in extra:
        G = ring_graph(n, os.path.join(work, "g.mtx")) @ V.astype(np.float64)
        lg = 0.4
        cmd += ["--graph", os.path.join(work, "g.mtx"), "--lambda-g", "0.4",
                "--t", "1", "--K", "16"]
    else:
        cmd += extra
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        print("FAILED:", " ".join(cmd), res.stderr)
        failures += 1
        continue
    Qd, Kd, Vd, Hd = (x.astype(np.float64) for x in (Q, K, V, H))
    if norm == "linear":
        B = linear(Qd, Kd, Vd, "--global-norm" in extra)
    else:
        S = Qd @ Kd.T * np.float64(np.float32(beta)) / np.sqrt(d)
        iters = int(extra[1]) if "--iters" in extra else 3
        B = normalize(S, norm, iters, n, m) @ Vd
    t = np.float64(np.float32(tau))
    ref = (1 - t) * Hd + t * ((1 - lg) * B + (lg * G if G is not None else 0))
    O = np.load(out)
    scale = np.abs(V).max() + np.abs(H).max()
    tol = 2.0**-24 * 4 * (m + d + 16) * scale + (1e-6 if G is not None else 0)
    err = float(np.abs(O - ref).max())
    ok = O.dtype == np.float32 and O.shape == (n, dv) and err <= tol
    print(f"{norm} {n}x{m} d={d} dv={dv} tau={tau} {' '.join(extra)}: max err "
          f"{err:.3g} (bound {tol:.3g}) {'ok' if ok else 'FAILED'}")
    failures += not ok
print(f"attention_vs_numpy: {len(cases) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
