#!/usr/bin/env python3
"""Softmax peers side by side with `opk bench`: PyTorch (CPU) writing into a
preallocated output (torch._softmax(x, dim, False, out=y)) and allocating
(torch.softmax(x, dim)), and NumPy (max, subtract, exp, sum, divide, all
into a preallocated output; NumPy runs on one thread). Same shapes and the
same traffic convention as `opk bench --kernel softmax`: one read of X and
one write of Y, 8 bytes per element, GB/s from the median time.

With --opk BINARY it also runs `opk bench --kernel softmax` on the same
shapes and threads and prints its rows in the same table.

A peer that is not installed is skipped with a note (Debian packages:
python3-torch, python3-numpy). Not part of the test suite.

usage: softmax_peers.py [--quick] [--size RxC] [--threads N[,N...]]
                        [--min-time S] [--reps N] [--opk BINARY]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SHAPES = [("rows", 4096, 4096), ("rows", 16384, 1024), ("rows", 1024, 65536),
          ("cols", 4096, 4096)]
QUICK = [("rows", 1024, 1024), ("cols", 1024, 1024)]


def default_threads():
    env = os.environ.get("OPK_NUM_THREADS")
    return int(env) if env and env.isdigit() and int(env) > 0 else os.cpu_count()


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small shapes only")
    ap.add_argument("--size", help="one shape RxC, run along rows and cols")
    ap.add_argument("--threads", default=str(default_threads()),
                    help="thread counts, e.g. 1,2 (default: OPK_NUM_THREADS "
                         "or all cores)")
    ap.add_argument("--min-time", type=float, default=0.5,
                    help="seconds of timed repetitions per row (default 0.5)")
    ap.add_argument("--reps", type=int, default=1000,
                    help="at most this many repetitions (default 1000)")
    ap.add_argument("--opk", help="an opk binary to run on the same shapes")
    a = ap.parse_args()
    try:
        a.threads = [int(t) for t in a.threads.split(",")]
        if any(t < 1 for t in a.threads):
            raise ValueError
    except ValueError:
        ap.error("--threads: '%s' is not a list of positive integers" % a.threads)
    if a.size:
        try:
            r, c = (int(v) for v in a.size.split("x"))
            if r < 1 or c < 1:
                raise ValueError
        except ValueError:
            ap.error("--size: '%s' is not RxC" % a.size)
        a.shapes = [("rows", r, c), ("cols", r, c)]
    else:
        a.shapes = QUICK if a.quick else SHAPES
    if a.reps < 1 or a.min_time < 0:
        ap.error("--reps must be >= 1 and --min-time >= 0")
    return a


def measure(fn, min_time, max_reps):
    """Warm-up, then repetitions like opk bench: at least 3 (or max_reps),
    until min_time seconds or max_reps. Returns (reps, median s, min s)."""
    fn()
    times, total = [], 0.0
    while len(times) < max_reps and (len(times) < min(3, max_reps) or total < min_time):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return len(times), statistics.median(times), min(times)


def numpy_softmax_into(np, x, y, axis, tmp):
    """Softmax of x along axis into y, temporaries preallocated."""
    np.max(x, axis=axis, keepdims=True, out=tmp)
    np.subtract(x, tmp, out=y)
    np.exp(y, out=y)
    np.sum(y, axis=axis, keepdims=True, out=tmp)
    np.divide(y, tmp, out=y)


def peer_rows(args, np, torch):
    """Yields (peer, variant, R, C, threads, reps, median, min)."""
    for variant, r, c in args.shapes:
        axis = 1 if variant == "rows" else 0
        if np is not None:
            rng = np.random.default_rng(1)
            x = rng.uniform(-4, 4, size=(r, c)).astype(np.float32)
            y = np.empty_like(x)
            tmp = np.empty((r, 1) if axis == 1 else (1, c), dtype=np.float32)
            st = measure(lambda: numpy_softmax_into(np, x, y, axis, tmp),
                         args.min_time, args.reps)
            yield ("numpy (out=)", variant, r, c, 1) + st
        if torch is not None:
            g = torch.Generator().manual_seed(1)
            xt = torch.rand((r, c), generator=g, dtype=torch.float32) * 8 - 4
            yt = torch.empty_like(xt)
            for t in args.threads:
                torch.set_num_threads(t)
                st = measure(lambda: torch._softmax(xt, axis, False, out=yt),
                             args.min_time, args.reps)
                yield ("torch _softmax(out=)", variant, r, c, t) + st
                st = measure(lambda: torch.softmax(xt, axis),
                             args.min_time, args.reps)
                yield ("torch.softmax (alloc)", variant, r, c, t) + st


def opk_rows(args):
    """opk bench on the same shapes (its JSON records)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "opk.json")
        cmd = [args.opk, "bench", "--kernel", "softmax", "--threads",
               ",".join(str(t) for t in args.threads), "--min-time",
               str(args.min_time), "--reps", str(args.reps), "--json", out]
        if args.size:
            cmd += ["--size", args.size]
        elif args.quick:
            cmd += ["--quick"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            print("note: %s exited %d; no opk rows" % (" ".join(cmd), p.returncode))
            return
        with open(out) as f:
            doc = json.load(f)
        print("opk limits: triad %.1f GB/s (%s)" % (doc["limits"]["bandwidth_gbs"],
                                                   doc["limits"]["source"]))
        for rec in doc["records"]:
            r, c = rec["dims"]
            yield ("opk " + rec["backend"], rec["variant"], r, c, rec["threads"],
                   rec["reps"], rec["median_ms"] * 1e-3, rec["min_ms"] * 1e-3)


def main():
    args = parse_args()
    try:
        import numpy as np
    except ImportError:
        np = None
        print("note: NumPy is not installed (Debian: python3-numpy): skipped")
    try:
        import torch
    except ImportError:
        torch = None
        print("note: PyTorch is not installed (Debian: apt-get install "
              "python3-torch): skipped")
    if torch is not None:
        cap = [l.strip(" -") for l in torch.__config__.show().splitlines()
               if "CPU capability" in l]
        print("torch %s%s" % (torch.__version__, ", " + cap[0] if cap else ""))
    if np is None and torch is None and not args.opk:
        print("nothing to measure")
        return 0
    rows = list(peer_rows(args, np, torch))
    if args.opk:
        rows += list(opk_rows(args))
    print("%-22s %-16s %7s %5s %10s %10s %9s" % ("peer", "shape", "threads", "reps",
                                              "median ms", "min ms", "GB/s"))
    for peer, variant, r, c, t, reps, med, mn in rows:
        gbs = 8.0 * r * c / med / 1e9
        print("%-22s %-16s %7d %5d %10.3f %10.3f %9.2f" % (
            peer, "%s %dx%d" % (variant, r, c), t, reps, med * 1e3, mn * 1e3, gbs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
