#!/usr/bin/env python3
"""`opk bench` end to end, with no timing decisions: the JSON file parses
and holds the expected records and limits; the limits cache is created,
reused, re-measured on --remeasure, on a corrupt file and on another triad
size, and falls back to $HOME/.cache; bad options exit 2 naming the option.
Limits are measured on a tiny triad (--limits-size-mib) so this takes
seconds.

Usage: bench_cli.py OPK_BINARY WORKDIR
"""
import glob
import json
import math
import os
import shutil
import subprocess
import sys

OPK, WORK = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what)
    return cond


def env_with(**kw):
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_CACHE_HOME", "OPK_BACKEND")}
    env.update({k: v for k, v in kw.items() if v is not None})
    return env


XDG = os.path.join(WORK, "xdg")
ENV = env_with(XDG_CACHE_HOME=XDG)
QUICK = ["bench", "--quick", "--kernel", "softmax", "--reps", "2",
         "--min-time", "0", "--limits-size-mib", "8"]


def opk(args, env=ENV):
    p = subprocess.run([OPK] + args, env=env, capture_output=True, text=True,
                       timeout=240)
    return p.returncode, p.stdout, p.stderr


def usable_backends():
    _, out, _ = opk(["info"])
    names = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1] == "usable":
            names.append(f[0])
    return names


def cache_files(root):
    # Only the limits files: the opencl backend keeps its programs in opk/cl/.
    return sorted(glob.glob(os.path.join(root, "opk", "limits-*")))


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
backends = usable_backends()
check("scalar" in backends, "opk info lists scalar as usable: %s" % backends)
_, version, _ = opk(["--version"])
version = version.split()[-1]

# ---- first run: measured, JSON complete -----------------------------------
j1 = os.path.join(WORK, "run1.json")
rc, out, err = opk(QUICK + ["--json", j1])
check(rc == 0, "quick bench exits 0: %d %s" % (rc, err))
check("limits: measured" in out, "first run measures the limits: " + out)
check("% of limit" in out and "softmax" in out, "the table is printed")
doc = None
try:
    with open(j1, encoding="utf-8") as f:
        doc = json.load(f)
except (OSError, ValueError) as e:
    check(False, "the JSON file parses: %s" % e)
if doc is not None:
    check(doc.get("opk_version") == version, "opk_version %r" % doc.get("opk_version"))
    check(isinstance(doc.get("cpu"), str) and doc["cpu"], "cpu model present")
    check(isinstance(doc.get("cores"), int) and doc["cores"] >= 1, "cores")
    lim = doc.get("limits", {})
    check(lim.get("source") == "measured", "limits.source measured")
    check(lim.get("triad_mib") == 8, "limits.triad_mib 8")
    check(lim.get("bandwidth_gbs", 0) > 0 and lim.get("bandwidth_1t_gbs", 0) > 0,
          "bandwidths positive: %s" % lim)
    peaks = lim.get("fma_peak_gflops", {})
    for b in backends:
        if b in ("scalar", "avx2", "avx512"):
            p = peaks.get(b, {})
            check(p.get("threads_1", 0) > 0 and p.get("threads_all", 0) > 0,
                  "FMA peak of %s: %s" % (b, p))
    recs = doc.get("records", [])
    want = {(v, b) for v in ("rows", "cols") for b in backends}
    got = {(r.get("variant"), r.get("backend")) for r in recs}
    check(len(recs) == len(want) and got == want,
          "one record per quick shape x usable backend: %s" % sorted(got))
    threads = {r.get("threads") for r in recs}
    check(len(threads) == 1 and min(threads) >= 1, "one default thread count")
    for r in recs:
        name = "%s/%s" % (r.get("variant"), r.get("backend"))
        check(r.get("kernel") == "softmax" and r.get("shape") == "1024x1024"
              and r.get("dims") == [1024, 1024], name + " shape")
        check(r.get("reps") == 2, name + " reps == 2")
        med, mn = r.get("median_ms", 0), r.get("min_ms", 0)
        check(0 < mn <= med, name + " 0 < min <= median")
        rate = 8 * 1024 * 1024 / (med * 1e-3) / 1e9
        check(r.get("unit") == "GB/s" and math.isclose(r.get("rate", 0), rate, rel_tol=1e-3),
              name + " rate = 8 bytes x elements / median")
        # The better of the all-cores and 1-thread triads (a busy machine).
        bw = max(lim.get("bandwidth_gbs", -1), lim.get("bandwidth_1t_gbs", -1))
        check(lim.get("bandwidth_limit_gbs") == bw, "bandwidth_limit_gbs")
        if r.get("backend") == "opencl":  # host limits: no percentage
            check(r.get("limit_value") == 0 and r.get("percent_of_limit") == 0,
                  name + " has no host limit")
        else:
            check(r.get("limit") == "bandwidth"
                  and math.isclose(r.get("limit_value", 0), bw, rel_tol=1e-5),
                  name + " compared to the triad bandwidth")
            check(math.isclose(r.get("percent_of_limit", 0),
                               100 * r.get("rate", 0) / bw, rel_tol=1e-3),
                  name + " percent of limit")
        # OpenCL rows split the device time; CPU rows have no such field.
        dev = r.get("device_ms")
        if r.get("backend") == "opencl":
            parts = [dev.get(k, -1) for k in ("host_to_device", "kernels",
                                              "device_to_host")] if dev else []
            check(len(parts) == 3 and all(p >= 0 for p in parts)
                  and parts[1] > 0, name + " device_ms split: %s" % dev)
        else:
            check(dev is None, name + " has no device_ms")
files = cache_files(XDG)
check(len(files) == 1 and os.path.basename(files[0]).startswith("limits-"),
      "one cache file, no temp file: %s" % files)

# ---- the cache is reused, re-measured on request, on damage, on size ------
j2 = os.path.join(WORK, "run2.json")
rc, out, _ = opk(QUICK + ["--json", j2])
check(rc == 0 and "limits: cached" in out, "second run uses the cache: " + out)
try:
    with open(j2) as f:
        doc2 = json.load(f)
    check(doc2["limits"]["source"] == "cached"
          and doc2["limits"]["bandwidth_gbs"] == doc["limits"]["bandwidth_gbs"],
          "cached limits equal the measured ones")
except (OSError, ValueError, KeyError, TypeError) as e:
    check(False, "second JSON: %s" % e)
rc, out, _ = opk(QUICK + ["--remeasure"])
check(rc == 0 and "limits: measured" in out, "--remeasure measures: " + out)
rc, out, _ = opk(QUICK)
check(rc == 0 and "limits: cached" in out, "cached again after --remeasure")

if files:
    with open(files[0]) as f:
        good = f.read()
    for label, text in (("garbage", "not a cache file\x00\xff"),
                        ("truncated", good[: len(good) // 2]),
                        ("a changed digit", good.replace("bw_gbs=", "bw_gbs=9", 1)),
                        ("empty", "")):
        with open(files[0], "w", encoding="latin-1") as f:
            f.write(text)
        rc, out, _ = opk(QUICK)
        check(rc == 0 and "ignored" in out and "limits: measured" in out,
              "a %s cache is ignored and re-measured: %s" % (label, out))
        rc, out, _ = opk(QUICK)
        check("limits: cached" in out, "after a %s cache, the new one is used" % label)
rc, out, _ = opk(QUICK[:-1] + ["4"])
check(rc == 0 and "limits: measured" in out, "another triad size re-measures")

# ---- $HOME/.cache when XDG_CACHE_HOME is unset or relative ----------------
home = os.path.join(WORK, "home")
for xdg in (None, "relative/path"):
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    rc, out, _ = opk(QUICK, env=env_with(HOME=home, XDG_CACHE_HOME=xdg))
    check(rc == 0 and len(cache_files(os.path.join(home, ".cache"))) == 1,
          "XDG_CACHE_HOME=%s: cache under $HOME/.cache/opk" % xdg)

# ---- filters: --threads list, --size, --backend ----------------------------
j3 = os.path.join(WORK, "run3.json")
rc, out, err = opk(["bench", "--size", "64x48", "--threads", "1,2", "--backend",
                    "scalar", "--reps", "2", "--min-time", "0",
                    "--limits-size-mib", "8", "--json", j3])
check(rc == 0, "--size/--threads/--backend run: " + err)
try:
    with open(j3) as f:
        recs = json.load(f)["records"]
    got = sorted((r["variant"], r["shape"], r["backend"], r["threads"]) for r in recs)
    # Without --kernel, a 2-D size selects the 2-D kernels: softmax (rows,
    # cols) and sinkhorn (10it, 100it).
    want = sorted((v, "64x48", "scalar", t) for v in ("rows", "cols", "10it", "100it")
                  for t in (1, 2))
    check(got == want, "records for each variant x thread count: %s" % got)
except (OSError, ValueError, KeyError, TypeError) as e:
    check(False, "third JSON: %s" % e)

# A size that fits no kernel is a usage error naming it.
rc, _, err = opk(["bench", "--size", "7", "--limits-size-mib", "8"])
check(rc == 2 and ("--size" in err or "'7'" in err), "--size fitting no kernel: %d %s" % (rc, err))

# ---- help and bad options ---------------------------------------------------
rc, out, _ = opk(["bench", "--help"])
check(rc == 0 and "usage: opk bench" in out, "bench --help")
for word in ("--kernel", "--backend", "--size", "--threads", "--quick", "--json",
             "--remeasure", "--min-time", "--reps", "--limits-size-mib",
             "XDG_CACHE_HOME", "triad", "FMA peak", "median"):
    check(word in out, "--help mentions " + word)
rc, out, _ = opk(["--help"])
check("bench" in out, "opk --help lists bench")

bad = [
    (["--bogus"], "'--bogus'"),
    (["--kernel", "nope"], "--kernel"),
    (["--backend", "sse9"], "--backend"),
    (["--size", "12"], "--size"),
    (["--size", "0x4"], "--size"),
    (["--size", "4x4x4"], "--size"),
    (["--threads", "0"], "--threads"),
    (["--threads", "1,,2"], "--threads"),
    (["--threads", "two"], "--threads"),
    (["--reps", "0"], "--reps"),
    (["--min-time", "-1"], "--min-time"),
    (["--min-time", "soon"], "--min-time"),
    (["--limits-size-mib", "0"], "--limits-size-mib"),
    (["--json"], "--json"),
]
for args, name in bad:
    rc, out, err = opk(["bench"] + args)
    check(rc == 2 and name in err and "limits:" not in out,
          "bench %s exits 2 naming %s before measuring: rc=%d %s" % (args, name, rc, err))
rc, _, err = opk(QUICK + ["--json", os.path.join(WORK, "no", "such", "dir.json")])
check(rc == 1 and "--json" in err, "an unwritable --json exits 1: %s" % err)
rc, _, err = opk(QUICK, env=dict(ENV, OPK_NUM_THREADS="lots"))
check(rc == 1 and "OPK_NUM_THREADS" in err, "a bad OPK_NUM_THREADS exits 1: " + err)

print("bench_cli: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
