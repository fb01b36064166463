#!/bin/sh
# The opk command end to end: help, info, verify, run, and its errors.
# Usage: cli.sh OPK_BINARY WORKDIR
opk=$1; work=$2
mkdir -p "$work"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*"; }
# expect STATUS TEXT -- command...: exit status and a text in stdout+stderr.
expect() {
    want=$1; text=$2; shift 3
    out=$("$@" 2>&1); st=$?
    if [ "$st" != "$want" ]; then bad "$* exited $st, want $want: $out"; return; fi
    case "$out" in *"$text"*) ok ;; *) bad "$*: output lacks '$text': $out" ;; esac
}
expect 0 "verify" -- "$opk" --help
expect 2 "usage" -- "$opk"
expect 2 "unknown command 'frobnicate'" -- "$opk" frobnicate
expect 0 "opk --version" -- sh -c "'$opk' --version | sed 's/^opk /opk --version /'"
for c in info verify run; do expect 0 "usage: opk $c" -- "$opk" $c --help; done
expect 0 "auto" -- "$opk" info
expect 0 "0 mismatch" -- "$opk" verify --backend scalar --kernel softmax
expect 0 "0 mismatch" -- "$opk" verify --kernel softmax --case 3x17 --threads 3
expect 2 "no kernel named 'nope'" -- "$opk" verify --kernel nope
expect 2 "unknown backend 'sse9'" -- "$opk" verify --backend sse9
expect 2 "unknown option '--bogus'" -- "$opk" verify --bogus
expect 1 "no case selected" -- "$opk" verify --case no-such-case
# An error above its bound fails verify (the hook shrinks every bound to 0).
expect 1 "ERROR ABOVE BOUND" -- env OPK_VERIFY_BOUND_SCALE=0 "$opk" verify --backend scalar --case 3x17
# A golden file with a wrong hash: verify must fail and show both hashes.
grep -v '^#' "$(dirname "$0")/golden/conformance.tsv" | head -1 |
    sed 's/Y=[0-9a-f]*/Y=0123456789abcdef/' > "$work/wrong.tsv"
expect 1 "golden 0123456789abcdef" -- "$opk" verify --golden "$work/wrong.tsv" --backend scalar
# run: a tiny .npy written here (2x3 float32, little-endian).
printf '\223NUMPY\001\000\166\000{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (2, 3), }%*s\n' 58 '' > "$work/x.npy"
printf '\000\000\200\077\000\000\000\100\000\000\100\100\000\000\200\100\000\000\240\100\000\000\300\100' >> "$work/x.npy"
expect 0 "Y  2x3" -- "$opk" run softmax --in X="$work/x.npy" --out "$work/y.npy" --backend scalar
# A 32x32 file of zeros (4 KiB of data: more than ulimit -f 1 allows).
printf '\223NUMPY\001\000\166\000{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (32, 32), }%*s\n' 56 '' > "$work/big.npy"
head -c 4096 /dev/zero >> "$work/big.npy"
[ -s "$work/y.npy" ] && ok || bad "no output file"
expect 0 "hash" -- "$opk" run softmax --in X="$work/x.npy" --axis cols --log
expect 2 "missing --in X" -- "$opk" run softmax
expect 2 "no input named 'Z'" -- "$opk" run softmax --in X="$work/x.npy" --in Z="$work/x.npy"
expect 2 "not rows or cols" -- "$opk" run softmax --in X="$work/x.npy" --axis diag
expect 2 "not a number" -- "$opk" run softmax --in X="$work/x.npy" --beta fast
expect 1 "beta" -- "$opk" run softmax --in X="$work/x.npy" --beta nan
# --beta goes through strtof (SPEC 1: one rounding): a decimal just above
# the midpoint 1 + 2^-24 is 1 + 2^-23 (strtod, then a float cast, gives 1).
h1=$("$opk" run softmax --in X="$work/x.npy" --backend scalar --beta 1.000000059604644775390625000001 2>&1 | sed -n 's/.*hash //p')
h2=$("$opk" run softmax --in X="$work/x.npy" --backend scalar --beta 1.00000011920928955078125 2>&1 | sed -n 's/.*hash //p')
h3=$("$opk" run softmax --in X="$work/x.npy" --backend scalar --beta 1 2>&1 | sed -n 's/.*hash //p')
[ -n "$h1" ] && [ "$h1" = "$h2" ] && [ "$h1" != "$h3" ] && ok || bad "--beta not rounded once: $h1, want $h2 (not $h3)"
expect 2 "unknown kernel 'fft'" -- "$opk" run fft
expect 1 "No such file" -- "$opk" run softmax --in X="$work/missing.npy"
printf 'garbage' > "$work/bad.npy"
expect 1 "not a .npy file" -- "$opk" run softmax --in X="$work/bad.npy"
expect 1 "OPK_NUM_THREADS" -- env OPK_NUM_THREADS=lots "$opk" run softmax --in X="$work/x.npy"
# OpenCL (when a device is usable): info lists it, verify and run use it,
# a tolerance-only device (simulated) never fails on hashes, a missing
# device index is named.
if "$opk" info | grep -q '^opencl *usable'; then
    expect 0 "fp32: denormals" -- "$opk" info
    expect 0 "tolerance only" -- env OPK_CL_ASSUME_NO_DENORM=1 "$opk" info
    expect 0 "0 mismatch" -- "$opk" verify --backend opencl --case 3x17
    expect 0 "opencl   Y" -- "$opk" verify --backend all --case rows-1x1
    expect 1 "golden 0123456789abcdef" -- "$opk" verify --golden "$work/wrong.tsv" --backend opencl
    expect 0 "1 of them tolerance only" -- env OPK_CL_ASSUME_NO_DENORM=1 "$opk" verify --golden "$work/wrong.tsv" --backend opencl
    # ...but an error above its bound fails there too: its one failure.
    expect 1 "ERROR ABOVE BOUND" -- env OPK_CL_ASSUME_NO_DENORM=1 OPK_VERIFY_BOUND_SCALE=0 "$opk" verify --backend opencl --case 3x17
    expect 1 "device index 9 does not exist" -- "$opk" verify --backend opencl:0:9
    expect 0 "backend opencl" -- "$opk" run softmax --in X="$work/x.npy" --backend opencl:0:0
    expect 1 "platform index 7" -- "$opk" run softmax --in X="$work/x.npy" --backend opencl:7:0
    # demo and bench take the device too (they once dropped :P:D).
    expect 1 "device index 9 does not exist" -- "$opk" demo --backend opencl:0:9 --layers 1 --grid 4x4
    expect 1 "device index 9 does not exist" -- "$opk" bench --backend opencl:0:9 --kernel softmax --quick
    # A device whose work-groups are too small for a kernel (PoCL can be
    # told so) is named with both sizes, not only CL_INVALID_WORK_GROUP_SIZE.
    if "$opk" info | grep -q 'Portable Computing Language'; then
        expect 1 "column kernel: needs work-groups of 256 work-items" -- \
            env POCL_MAX_WORK_GROUP_SIZE=64 "$opk" verify --backend opencl --kernel sinkhorn --case 1x1
    fi
fi
# run: an option of another kernel, a name given twice, the kernel after an
# option: usage errors, not silently ignored.
expect 2 "--K is an option of attention and cheb, not of softmax" -- "$opk" run softmax --in X="$work/x.npy" --K 5
expect 2 "--tol is an option of sinkhorn, not of attention" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --tol=1
expect 2 "--in: X is given twice" -- "$opk" run softmax --in X="$work/x.npy" --in X="$work/bad.npy"
expect 2 "the kernel comes first" -- "$opk" run --backend scalar softmax --in X="$work/x.npy"

# run sinkhorn on the same 2x3 file: hashes, info, outputs, errors.
expect 0 "converged yes" -- "$opk" run sinkhorn --in S="$work/x.npy" --backend scalar
expect 0 "P  2x3" -- "$opk" run sinkhorn --in S="$work/x.npy" --out-f "$work/f.npy" --out-g "$work/g.npy" --out-plan "$work/p.npy"
[ -s "$work/f.npy" ] && [ -s "$work/g.npy" ] && [ -s "$work/p.npy" ] && ok || bad "sinkhorn outputs not written"
# Every backend prints the scalar hashes.
ref=$("$opk" run sinkhorn --in S="$work/x.npy" --beta -2.5 --backend scalar 2>&1 | sed 's/backend [a-z0-9]*//')
for b in $("$opk" info 2>/dev/null | sed -n 's/^\(avx2\|avx512\|neon\) *usable.*/\1/p'); do
    got=$("$opk" run sinkhorn --in S="$work/x.npy" --beta -2.5 --backend "$b" 2>&1 | sed 's/backend [a-z0-9]*//')
    [ "$got" = "$ref" ] && ok || bad "sinkhorn on $b differs from scalar: $got"
done
expect 0 "iterations 3  error" -- "$opk" run sinkhorn --in S="$work/x.npy" --tol 0 --max-iter 3 --check-every 2
expect 0 "converged no" -- "$opk" run sinkhorn --in S="$work/x.npy" --tol 0 --max-iter 3 --no-plan
expect 2 "missing --in S" -- "$opk" run sinkhorn
expect 2 "no input named 'X'" -- "$opk" run sinkhorn --in X="$work/x.npy"
expect 2 "use --out-f" -- "$opk" run sinkhorn --in S="$work/x.npy" --out "$work/y.npy"
expect 1 "needs 2 elements" -- "$opk" run sinkhorn --in S="$work/x.npy" --in a="$work/x.npy"
expect 2 "not an integer" -- "$opk" run sinkhorn --in S="$work/x.npy" --max-iter 0
expect 1 "S[1][0]" -- "$opk" run sinkhorn --in S="$work/x.npy" --beta 1e38
expect 0 "0 mismatch" -- "$opk" verify --kernel sinkhorn --case 7x300
# A usage error comes before any work: nothing is written.
rm -f "$work/np_f.npy"
expect 2 "--out-plan with --no-plan" -- "$opk" run sinkhorn --in S="$work/x.npy" --no-plan --out-plan "$work/np_p.npy" --out-f "$work/np_f.npy"
[ ! -e "$work/np_f.npy" ] && ok || bad "run sinkhorn wrote --out-f before its usage error"
# S with no rows: the library does nothing (SPEC 2), so there is no g to print.
printf '\223NUMPY\001\000\166\000{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (0, 3), }%*s\n' 58 '' > "$work/s0.npy"
expect 1 "--in S is 0x3" -- "$opk" run sinkhorn --in S="$work/s0.npy" --out-g "$work/g0.npy"
# run attention: Q = K = V = x.npy (2x3), and a 2-node graph.
expect 0 "O  2x3" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --tau 0.5 --out "$work/o.npy"
[ -s "$work/o.npy" ] && ok || bad "no attention output file"
printf '%%%%MatrixMarket matrix coordinate pattern symmetric\n2 2 1\n2 1\n' > "$work/g.mtx"
for nm in softmax sigmoid sinkhorn linear; do
    expect 0 "hash" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --norm $nm --graph "$work/g.mtx" --lambda-g 0.3 --t 0.5 --K 4
done
expect 2 "missing --in V" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy"
expect 2 "not softmax, sigmoid" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --norm cosine
expect 2 "--K needs --graph" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --K 5
expect 2 "--lambda-g needs --graph" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --lambda-g 0.5
expect 1 "tau" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --tau 2
expect 1 "missing.mtx" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --graph "$work/missing.mtx"
expect 0 "0 mismatch" -- "$opk" verify --kernel attention --case graph
# demo: a short depth study, its verdict and the SVG.
expect 0 "verdict (measured)" -- "$opk" demo --layers 8 --grid 8x8 --svg "$work/demo.svg"
grep -q "<polyline" "$work/demo.svg" && ok || bad "demo SVG has no curves"
expect 0 "usage: opk demo" -- "$opk" demo --help
expect 2 "unknown option '--bogus'" -- "$opk" demo --bogus
expect 2 "must be in [0, 1]" -- "$opk" demo --tau 2
expect 2 "is not RxC" -- "$opk" demo --grid 8by8
# run cheb: a 2-node weighted graph (symmetric .mtx) and the 2x3 x.npy above.
printf '%%%%MatrixMarket matrix coordinate real symmetric\n%% two nodes\n2 2 2\n2 1 1.5\n1 1 0.25\n' > "$work/g2.mtx"
expect 0 "Y  2x3" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --out "$work/yc.npy" --K 5 --t 2
[ -s "$work/yc.npy" ] && ok || bad "run cheb wrote no output file"
expect 0 "estimated" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy"
expect 0 "lmax 2 (given); comb lowpass 1, K 12, damping jackson" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --laplacian comb --filter lowpass --cutoff 1 --damping jackson --lmax 2 --K 12
# g2's comb Laplacian has eigenvalues 0 and 3: a given lmax below 3 is
# warned about (an edge's Rayleigh quotient is 3), 3 is not; sym's top
# eigenvalue is 1.857, the bound 1.854.
expect 0 "warning: --lmax 2 is below 3," -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --laplacian comb --lmax 2
expect 0 "warning: --lmax 1.8 is below 1.85" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --graph "$work/g2.mtx" --lmax 1.8
for args in "--laplacian comb --lmax 3" "--lmax 1.9" "--laplacian rw --lmax 1.9" ""; do
    out=$("$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" $args 2>&1)
    case "$out" in *warning*) bad "run cheb $args warned: $out" ;; *) ok ;; esac
done
h1=$("$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --K 9 --backend scalar 2>&1 | sed -n 's/.*hash //p')
h2=$("$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --K 9 --threads 3 2>&1 | sed -n 's/.*hash //p')
[ -n "$h1" ] && [ "$h1" = "$h2" ] && ok || bad "run cheb: scalar hash '$h1' differs from auto '$h2'"
expect 2 "missing --graph" -- "$opk" run cheb --in X="$work/x.npy"
expect 2 "--laplacian: unknown value 'foo'" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --laplacian foo
expect 2 "--cutoff is the lowpass filter's; the filter is heat" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --cutoff 0.5
expect 2 "--t is the heat filter's time; the filter is lowpass" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --filter lowpass --t 2
expect 2 "--lmax (-1) must be positive and finite" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --lmax -1
expect 2 "--K: '-1' is not an integer" -- "$opk" run cheb --graph "$work/g2.mtx" --in X="$work/x.npy" --K -1
printf '%%%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n' > "$work/bad.mtx"
expect 1 "bad.mtx:3: row index '3' is not in 1..2" -- "$opk" run cheb --graph "$work/bad.mtx" --in X="$work/x.npy"
printf '%%%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 2\n' > "$work/g3.mtx"
expect 1 "X has 2 rows but the graph has 3 nodes" -- "$opk" run cheb --graph "$work/g3.mtx" --in X="$work/x.npy"
# Output files: reserved before the run, replaced only when complete.
cp "$work/y.npy" "$work/keep.npy"
(trap '' XFSZ; ulimit -f 1; "$opk" run softmax --in X="$work/big.npy" --out "$work/keep.npy") > "$work/xfsz.txt" 2>&1
grep -q "keep.npy: write failed: File too large" "$work/xfsz.txt" && cmp -s "$work/y.npy" "$work/keep.npy" &&
    ok || bad "a failed write replaced the old file: $(cat "$work/xfsz.txt")"
ls "$work" | grep -q 'opk-' && bad "a temporary file was left in $work" || ok
rm -f "$work/f_only.npy"
expect 1 "--out-g: $work/no/g.npy: cannot write there" -- "$opk" run sinkhorn --in S="$work/x.npy" --out-f "$work/f_only.npy" --out-g "$work/no/g.npy"
[ ! -e "$work/f_only.npy" ] && ok || bad "run sinkhorn wrote --out-f although --out-g could not be written"
expect 1 "--svg: $work/no/d.svg: cannot write there" -- "$opk" demo --layers 2 --grid 4x4 --svg "$work/no/d.svg"
expect 1 "writing the standard output" -- sh -c "'$opk' run softmax --in X='$work/x.npy' > /dev/full"
# A backend that cannot start is the whole story (not "no case selected").
if ! "$opk" info | grep -q '^neon *usable'; then
    expect 1 "neon" -- "$opk" verify --backend neon --kernel softmax
    case "$out" in *"no case selected"*) bad "verify --backend neon: $out" ;; *) ok ;; esac
fi
expect 2 "--beta: '1e50' is out of the float range" -- "$opk" run softmax --in X="$work/x.npy" --beta 1e50
expect 2 "--out is given twice" -- "$opk" run softmax --in X="$work/x.npy" --out "$work/a.npy" --out "$work/b.npy"
expect 2 "--iters applies to --norm sinkhorn only" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --iters 5
expect 2 "--global-norm applies to --norm linear only" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --norm sigmoid --global-norm
expect 0 "warning: --beta has no effect with --norm linear" -- "$opk" run attention --in Q="$work/x.npy" --in K="$work/x.npy" --in V="$work/x.npy" --norm linear --beta 2
expect 2 "--tau (nan) must be in [0, 1]" -- "$opk" demo --tau nan
# A graph without edges: L = 0 and Y = g(0) X (lmax 1 stands in for 0).
printf '%%%%MatrixMarket matrix coordinate pattern symmetric\n2 2 0\n' > "$work/g0.mtx"
expect 0 "Y  2x3" -- "$opk" run cheb --graph "$work/g0.mtx" --in X="$work/x.npy"
echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
