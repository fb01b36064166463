#!/bin/sh
# The OpenCL kernels under Oclgrind (a simulated OpenCL device that checks
# every access): `opk verify --backend opencl` on the small golden cases of
# every OpenCL kernel (tails: 1x1, 3x17, 33x47, 100x31; rows/cols, log,
# padding, masks, in place), with API checks, data-race detection and
# out-of-bounds checks (always on in Oclgrind). Any report fails the run.
# A second pass with --uninitialized is informational (OCLGRIND_UNINIT=strict
# makes it fail too): Oclgrind 21.10 flags lanes whose value is the constant
# -INFINITY on the path taken, which we believe is a false positive.
# Usage: tests/oclgrind.sh [BUILD_DIR]   (uses BUILD_DIR/opk, default build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
command -v oclgrind > /dev/null || {
    echo "oclgrind: skipped: oclgrind is not installed (./setup.sh test installs it)"
    exit 77
}
[ -x "$build/opk" ] || {
    echo "oclgrind: $build/opk is missing (build first)" >&2
    exit 1
}
work="$build/oclgrind"
mkdir -p "$work"
# Small cases only: Oclgrind interprets every work-item.
awk -F'\t' '/^#/ || $2 ~ /-(1x1|3x17|33x47|100x31)$/' tests/golden/conformance.tsv > "$work/small.tsv"
ncases=$(grep -vc '^#' "$work/small.tsv" || true)
export OPK_CL_CACHE=0 # Oclgrind compiles from source; no PoCL binaries
start=$(date +%s)
rm -f "$work/checks.log"
if ! oclgrind --check-api --data-races --log "$work/checks.log" \
    "$build/opk" verify --golden "$work/small.tsv" --backend opencl --failures-only \
    > "$work/verify.log" 2>&1; then
    cat "$work/verify.log"
    echo "oclgrind: opk verify failed under Oclgrind" >&2
    exit 1
fi
if [ -s "$work/checks.log" ]; then
    head -40 "$work/checks.log"
    echo "oclgrind: $(grep -c '^[A-Z]' "$work/checks.log") report(s): see $work/checks.log" >&2
    exit 1
fi
echo "oclgrind: $ncases cases, API checks, data races, out-of-bounds: no report ($(($(date +%s) - start)) s)"
rm -f "$work/uninit.log"
oclgrind --uninitialized --max-errors 100000 --log "$work/uninit.log" \
    "$build/opk" verify --golden "$work/small.tsv" --backend opencl --failures-only \
    > /dev/null 2>&1 || true
nu=$( (grep -c '^Uninitialized\|^Controlflow' "$work/uninit.log" 2> /dev/null) || echo 0)
if [ "$nu" != 0 ]; then
    echo "oclgrind: --uninitialized: $nu report(s) (informational, see $work/uninit.log)"
    [ "${OCLGRIND_UNINIT:-}" != strict ] || exit 1
else
    echo "oclgrind: --uninitialized: no report"
fi
