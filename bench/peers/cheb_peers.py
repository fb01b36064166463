"""Chebyshev peers: the same K-order recurrence as `opk bench --kernel cheb`
on the same graph (opk_graph_grid(1000, 1000, 3000000, 1) and its symmetric
Laplacian, taken from libopk through ctypes), in SciPy (`csr @ dense`) and
torch.sparse (`torch.sparse.mm`), float32, rated with the issue's byte
count per order: nnz*8 + rows*8 + 3*n*F*4. Not part of the test suite.

Usage: cheb_peers.py --lib build/libopk.so [--F 1,16,64] [--K 20]
                     [--threads 2] [--opk build/opk]
"""
import argparse
import ctypes
import os
import subprocess
import warnings

from peertime import median_time

warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--lib", default="build/libopk.so")
p.add_argument("--F", default="1,16,64")
p.add_argument("--K", type=int, default=20)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--reps", type=int, default=3)
p.add_argument("--opk", help="also run `opk bench --kernel cheb` (avx512)")
a = p.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
try:
    import numpy as np
    import scipy.sparse as sp
except ImportError as e:
    raise SystemExit(f"skipped: {e} (Debian: python3-numpy python3-scipy)")


class Csr(ctypes.Structure):
    _fields_ = [("rows", ctypes.c_int64), ("cols", ctypes.c_int64),
                ("nnz", ctypes.c_int64), ("row_ptr", ctypes.POINTER(ctypes.c_int64)),
                ("col_idx", ctypes.POINTER(ctypes.c_int32)),
                ("val", ctypes.POINTER(ctypes.c_float))]


lib = ctypes.CDLL(a.lib)
lib.opk_graph_grid.argtypes = [ctypes.c_size_t] * 3 + [ctypes.c_uint64, ctypes.POINTER(Csr)]
lib.opk_laplacian.argtypes = [Csr, ctypes.c_int, ctypes.POINTER(Csr)]
A, L = Csr(), Csr()
if lib.opk_graph_grid(1000, 1000, 3000000, 1, ctypes.byref(A)) or \
        lib.opk_laplacian(A, 1, ctypes.byref(L)):
    raise SystemExit("opk_graph_grid / opk_laplacian failed")
n, nnz = L.rows, L.nnz
rp = np.ctypeslib.as_array(L.row_ptr, (n + 1,)).copy()
ci = np.ctypeslib.as_array(L.col_idx, (nnz,)).copy()
va = np.ctypeslib.as_array(L.val, (nnz,)).copy()
lib.opk_csr_free(ctypes.byref(A))
lib.opk_csr_free(ctypes.byref(L))
lmax = 2.0  # the bench's scaling; any fixed value costs the same
Ls = sp.csr_matrix((va * np.float32(2 / lmax), ci, rp), shape=(n, n))
Ls = (Ls - sp.identity(n, dtype=np.float32, format="csr")).tocsr()  # L~
Ls.sort_indices()
print(f"graph: n {n}, nnz {nnz} (L~ has {Ls.nnz}); K = {a.K}; "
      f"{a.threads} threads")


def rate(F, seconds):
    per_order = nnz * 8 + n * 8 + 3 * n * F * 4
    return a.K * per_order / seconds / 1e9


def scipy_run(X, c):
    t0, t1 = X, Ls @ X
    y = c[0] * t0 + c[1] * t1
    for k in range(2, a.K + 1):
        t2 = 2 * (Ls @ t1) - t0
        y += c[k] * t2
        t0, t1 = t1, t2
    return y


c = np.linspace(1, 0.1, a.K + 1).astype(np.float32)
for F in [int(x) for x in a.F.split(",")]:
    X = np.random.default_rng(F).uniform(-1, 1, (n, F)).astype(np.float32)
    s = median_time(lambda: scipy_run(X, c), a.reps)
    print(f"scipy  F={F:3d}: {1e3 * s:9.1f} ms  {rate(F, s):6.2f} GB/s")
try:
    import torch
    torch.set_num_threads(a.threads)
    Lt = torch.sparse_csr_tensor(torch.from_numpy(Ls.indptr.astype(np.int64)),
                                 torch.from_numpy(Ls.indices.astype(np.int64)),
                                 torch.from_numpy(Ls.data), size=(n, n)).to_sparse_coo()
    for F in [int(x) for x in a.F.split(",")]:
        X = torch.from_numpy(np.random.default_rng(F).uniform(-1, 1, (n, F)).astype(np.float32))

        def torch_run():
            t0, t1 = X, torch.sparse.mm(Lt, X)
            y = c[0] * t0 + c[1] * t1
            for k in range(2, a.K + 1):
                t2 = 2 * torch.sparse.mm(Lt, t1) - t0
                y = y + float(c[k]) * t2
                t0, t1 = t1, t2
            return y
        s = median_time(torch_run, a.reps)
        print(f"torch  F={F:3d}: {1e3 * s:9.1f} ms  {rate(F, s):6.2f} GB/s")
except ImportError:
    print("torch not installed: skipped")
if a.opk:
    out = subprocess.run([a.opk, "bench", "--kernel", "cheb", "--backend", "avx512",
                          "--threads", str(a.threads), "--min-time", "1"],
                         capture_output=True, text=True).stdout
    print("\n".join(l for l in out.splitlines() if l.startswith("cheb")))
