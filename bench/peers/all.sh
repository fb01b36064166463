#!/bin/sh
# Every peer script, each with opk's rows from the same run, in one report:
#   bench/peers/all.sh [BUILD_DIR] > report.txt
# Python: $PYTHON, else Debian's /usr/bin/python3 (where python3-numpy,
# python3-scipy and python3-torch install; a pyenv or venv python3 first on
# PATH usually has none of them), else python3. A peer that is missing is
# skipped with a note, as each script does on its own. THREADS (default:
# all online cores) goes to every script and to opk.
set -u
here=$(dirname "$0")
build=${1:-build}
py=${PYTHON:-}
[ -n "$py" ] || { [ -x /usr/bin/python3 ] && py=/usr/bin/python3; } || py=python3
[ -x "$build/opk" ] || { echo "all.sh: no $build/opk (build first)" >&2; exit 2; }
threads=${THREADS:-$(nproc)}
echo "# opk peers, $(date -u +%Y-%m-%dT%H:%MZ), opk $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, $threads threads; $("$py" --version 2>&1)"
status=0
for s in softmax sinkhorn cheb attention; do
    echo
    echo "## ${s}_peers.py"
    extra=""
    [ "$s" = cheb ] && extra="--lib $build/libopk.so"
    # shellcheck disable=SC2086
    "$py" "$here/${s}_peers.py" --threads "$threads" --opk "$build/opk" $extra 2>&1 || status=1
done
exit $status
