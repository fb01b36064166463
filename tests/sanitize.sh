#!/bin/sh
# The sanitizer suite: opk built with ASan + UBSan (-DOPK_SANITIZE=ON, every
# report fatal) in build-asan/, then `ctest -L fast` there: every CPU backend,
# and OpenCL (PoCL) when it runs under ASan here (probed first; set
# OPK_SANITIZE_OPENCL=0 to leave it out). LeakSanitizer is on; only
# third-party leaks are suppressed (tests/lsan.supp).
# Usage: tests/sanitize.sh [BUILD_DIR]   (JOBS: parallel jobs, default nproc)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-asan}
jobs=${JOBS:-$(nproc)}
start=$(date +%s)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPK_SANITIZE=ON > /dev/null
cmake --build "$build" -j "$jobs"
# intercept_tls_get_addr=0: GCC 12's runtime (up to GCC 13 / LLVM 16) takes a
# dynamic-TLS block that malloc happens to place at offset 16 of a page for a
# pre-2.25 glibc header and reads a bogus range from it; LeakSanitizer's
# tracer then dies with SIGSEGV at exit after every test passed. PoCL's
# dlopen'ed LLVM makes such blocks, so test_opencl hit it in most runs.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:intercept_tls_get_addr=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"

# OpenCL under ASan: PoCL compiles in-process with LLVM; use it only if a
# small verify run is clean.
cpu_only="scalar,avx2,avx512,neon"
if [ "${OPK_SANITIZE_OPENCL:-1}" = 0 ]; then
    echo "sanitize: OpenCL left out (OPK_SANITIZE_OPENCL=0)"
    export OPK_TEST_BACKENDS="$cpu_only"
elif ! "$build/opk" info 2> /dev/null | grep -q "^opencl  *usable" ||
    ! "$build/opk" verify --backend opencl --kernel softmax --failures-only \
        > "$build/sanitize_probe.log" 2>&1; then
    echo "sanitize: OpenCL skipped: not usable under ASan here (see $build/sanitize_probe.log)"
    export OPK_TEST_BACKENDS="$cpu_only"
else
    echo "sanitize: OpenCL (PoCL) runs under ASan: included"
fi

# readme_example and install_consumer build other programs against the
# library outside this build's flags (no sanitizer runtime there): they
# belong to the native suite only.
(cd "$build" && ctest --output-on-failure -L fast -j "$jobs" \
    -E '^(readme_example|install_consumer)$')
echo "sanitize: the fast suite under ASan+UBSan took $(($(date +%s) - start)) s (build included)"
