#!/bin/sh
# One command for each job on a fresh Debian 12 machine (see README.md):
#   ./setup.sh main   install what is missing, build, run opk info, opk verify
#                     and a short opk bench (--quick)
#   ./setup.sh test   install what is missing, build, run the whole test suite
# BUILD_DIR (default build) and JOBS (default: all cores) may be set.
set -eu
cd "$(dirname "$0")"
job=${1:-}
case "$job" in
main | test) ;;
*)
    echo "usage: ./setup.sh main|test" >&2
    exit 2
    ;;
esac

# Debian packages the build, the tests and the tools need.
pkgs="gcc make cmake pkg-config libsleef-dev libxxhash-dev python3 python3-numpy"
# OpenCL backend: the ICD loader and headers, PoCL (a CPU device, so the
# OpenCL tests run on machines without a GPU) and clinfo.
pkgs="$pkgs ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo"
# The AArch64 suite of `test` on x86-64 (tests/aarch64.sh): cross compiler,
# QEMU user mode, and the arm64 libraries through Debian multiarch. The cross
# glibc's crt files and headers (libc6-dev-arm64-cross) are only a Recommends
# of the cross gcc, which --no-install-recommends skips: named here.
cross=""
if [ "$job" = test ] && [ "$(uname -m)" = x86_64 ]; then
    cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libsleef-dev:arm64 libxxhash-dev:arm64 libgomp1:arm64"
    pkgs="$pkgs $cross"
fi

# Hardening (`test`): valgrind (memcheck test), clang + its runtimes and
# libomp (libFuzzer harnesses, tests/fuzz.sh), oclgrind (tests/oclgrind.sh).
if [ "$job" = test ]; then
    pkgs="$pkgs valgrind clang libclang-rt-14-dev libomp-dev oclgrind"
fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    # arm64 packages need the architecture enabled before the update.
    case "$missing" in
    *:arm64*)
        dpkg --print-foreign-architectures | grep -qx arm64 ||
            $sudo dpkg --add-architecture arm64
        ;;
    esac
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"

if [ "$job" = main ]; then
    "$build/opk" info
    "$build/opk" verify --failures-only
    "$build/opk" bench --quick
else
    cd "$build"
    ctest --output-on-failure -L fast -j "$jobs"
    cd "$OLDPWD"
    if [ -n "$cross" ]; then
        JOBS=$jobs tests/aarch64.sh "${AARCH64_BUILD_DIR:-build-aarch64}"
    fi
    # ASan + UBSan + LSan on the fast suite, then ~60 s of fuzzing.
    JOBS=$jobs tests/sanitize.sh "${ASAN_BUILD_DIR:-build-asan}"
    JOBS=$jobs tests/fuzz.sh "${FUZZ_BUILD_DIR:-build-fuzz}"
fi
