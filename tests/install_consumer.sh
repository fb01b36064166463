#!/bin/sh
# Installs the build into a scratch prefix, then builds and runs a consumer
# with find_package(opk) (shared and static targets) and with pkg-config.
# Usage: install_consumer.sh BUILD_DIR SOURCE_DIR WORKDIR
# Cross builds set OPK_TOOLCHAIN (toolchain file), OPK_CC (compiler) and
# OPK_EMU (how to run a target program, e.g. qemu-aarch64).
set -eu
build=$1; src=$2; work=$3
emu=${OPK_EMU:-}; cc=${OPK_CC:-cc}
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$src/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
    ${OPK_TOOLCHAIN:+-DCMAKE_TOOLCHAIN_FILE="$OPK_TOOLCHAIN"} > "$work/configure.log"
cmake --build "$work/consumer" > "$work/build.log"
$emu "$work/consumer/app_shared"
$emu "$work/consumer/app_static"
pc=$(find "$work/prefix" -name opk.pc)
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH="$(dirname "$pc")"
"$cc" "$src/tests/consumer/app.c" -o "$work/app_pc" $(pkg-config --cflags --libs opk) -Wl,-rpath,"$libdir"
$emu "$work/app_pc"
echo "install_consumer: 3 passed, 0 failed"
