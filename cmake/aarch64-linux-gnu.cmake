# Cross-compiling for AArch64 Linux on a Debian x86-64 host:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Needs gcc-aarch64-linux-gnu and libc6-dev-arm64-cross, libsleef-dev:arm64 and
# libxxhash-dev:arm64 (multiarch: dpkg --add-architecture arm64),
# libgomp1:arm64, and qemu-user for the tests, which ctest runs through
# CMAKE_CROSSCOMPILING_EMULATOR (tests/aarch64.sh).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(OPK_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${OPK_CROSS_TRIPLE}-gcc)
# Debian's aarch64 GCC 12.2 at -O3 hits an internal compiler error
# (vect_transform_reduction) auto-vectorizing fmax reductions (tools/refdouble.c,
# tests/test_sinkhorn.c). opk never relies on auto-vectorization (the NEON
# kernels are intrinsics), so the cross build goes without it.
set(CMAKE_C_FLAGS_INIT "-fno-tree-vectorize")
# The cross toolchain's own sysroot (its glibc, libgomp, crt files).
set(OPK_CROSS_SYSROOT /usr/${OPK_CROSS_TRIPLE})

# Debian multiarch: the arm64 SLEEF and xxHash live in /usr/lib/aarch64-linux-gnu
# and /usr/include/aarch64-linux-gnu (xxhash.h is arch-independent in
# /usr/include). Searching <prefix>/{lib,include}/<arch> finds them; the x86-64
# directories are ignored outright so a host library can never be picked up.
set(CMAKE_LIBRARY_ARCHITECTURE ${OPK_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH ${OPK_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER) # host tools: python3, sh
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
list(APPEND CMAKE_IGNORE_PATH
  /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu
  /usr/lib/i386-linux-gnu /usr/include/i386-linux-gnu)

# QEMU user mode runs the tests. The arm64 SLEEF pulls in Debian's multiarch
# libc6:arm64, whose loader is /lib/ld-linux-aarch64.so.1: QEMU then needs no
# -L, and must not get `-L /usr/aarch64-linux-gnu`, which would pair the cross
# sysroot's ld.so (2.36-8cross1) with the multiarch libc.so.6 (2.36-9+deb12u*)
# that comes first on its search path -- a mismatch on which pthread_create
# hangs. Without the multiarch loader, the sysroot is the only glibc: use it.
find_program(OPK_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(OPK_QEMU_AARCH64)
  if(EXISTS /lib/ld-linux-aarch64.so.1)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${OPK_QEMU_AARCH64})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${OPK_QEMU_AARCH64} -L ${OPK_CROSS_SYSROOT})
  endif()
endif()
