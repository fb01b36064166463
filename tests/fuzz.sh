#!/bin/sh
# Fuzzing: builds the libFuzzer harnesses of tests/fuzz/ with clang
# (-DOPK_FUZZ=ON: fuzzer coverage + ASan + UBSan) in build-fuzz/, replays each
# seed corpus (tests/fuzz/corpus/<h>/), then fuzzes each harness for its share
# of FUZZ_SECONDS (default 60 in all), starting from the seeds plus what
# earlier runs kept in build-fuzz/corpus/<h>/. A finding stops the script:
# its input is in build-fuzz/findings/; fix the bug, add the input to
# tests/fuzz/corpus/<h>/ (replayed by ctest: fuzz_replay_<h>) and a unit test.
# Usage: tests/fuzz.sh [BUILD_DIR]     (JOBS: build jobs, default nproc)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
jobs=${JOBS:-$(nproc)}
total=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
command -v "$cc" > /dev/null || {
    echo "fuzz: $cc is missing (./setup.sh test installs clang and libclang-rt-14-dev)" >&2
    exit 1
}
CC=$cc cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPK_FUZZ=ON \
    -DOPK_ENABLE_OPENCL=OFF -DOPK_BUILD_TESTS=OFF -DOPK_BUILD_TOOLS=OFF > /dev/null
harnesses=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
targets=$(for h in $harnesses; do printf ' fuzz_%s' "$h"; done)
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets
n=$(echo "$harnesses" | wc -w)
each=$((total / n))
[ "$each" -ge 1 ] || each=1
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1"
mkdir -p "$build/findings"
summary=""
for h in $harnesses; do
    bin="$build/tests/fuzz/fuzz_$h"
    seeds="tests/fuzz/corpus/$h"
    work="$build/corpus/$h"
    mkdir -p "$work" "$seeds"
    # Replay: every seed and past finding once (-runs=0 runs only the inputs).
    "$bin" -runs=0 "$seeds" > "$build/replay_$h.log" 2>&1 || {
        tail -30 "$build/replay_$h.log"
        echo "fuzz: $h: a corpus input fails (see $build/replay_$h.log)" >&2
        exit 1
    }
    log="$build/fuzz_$h.log"
    # -timeout: an input that runs for seconds (a hang) is a finding too.
    if ! "$bin" -max_total_time="$each" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$build/findings/${h}-" "$work" "$seeds" > "$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: $h: FINDING (input in $build/findings/)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    kept=$(ls "$work" | wc -l)
    echo "fuzz: $h: ${runs:-?} executions in ${each} s, coverage ${cov:-?} edges, corpus $kept inputs, no finding"
    summary="$summary $h=${runs:-?}"
done
echo "fuzz: done:$summary"
