#!/bin/sh
# The AArch64 suite on an x86-64 host: cross-builds opk with
# cmake/aarch64-linux-gnu.cmake into build-aarch64/ and runs `ctest -L fast`
# there under QEMU user mode (CMAKE_CROSSCOMPILING_EMULATOR): the scalar and
# neon backends on every golden case, which must give the same hashes as on
# x86-64, plus every unit and script test.
# Usage: tests/aarch64.sh [BUILD_DIR]    (JOBS: parallel jobs, default nproc;
# OPK_TEST_SCALE below 1 shrinks the randomized tests, see tests/backends.h)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
jobs=${JOBS:-$(nproc)}
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$tool" > /dev/null || {
        echo "aarch64: $tool is missing (./setup.sh test installs it)" >&2
        exit 1
    }
done
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
    -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"
# QEMU runs the randomized loops at a fraction of their native size (the
# golden cases stay whole); an OPK_TEST_SCALE from the caller wins.
export OPK_TEST_SCALE=${OPK_TEST_SCALE:-0.1}
# Golden hashes are still compared for scalar and neon on every case; the
# double-precision error check is skipped: equal hashes mean equal bits to the
# x86-64 outputs, whose errors the native suite checks.
export OPK_TEST_EMULATED=1
start=$(date +%s)
(cd "$build" && ctest --output-on-failure -L fast -j "$jobs")
echo "aarch64: the fast suite took $(($(date +%s) - start)) s under QEMU"
