#!/usr/bin/env bash
# aarch64 (Apple silicon under Linux, Graviton, Ampere): cross-build the library, lint it for
# that target, and run the fast path's tests (NEON kernels against candle) under qemu-user.
# Times under qemu mean nothing; speed on real aarch64 hardware is not measured here.
set -euo pipefail
cd "$(dirname "$0")/.."
T=aarch64-unknown-linux-gnu
if ! rustup target list --installed 2>/dev/null | grep -qx "$T"; then
  rustup target add "$T" || { echo "SKIPPED aarch64: could not install the $T standard library"; exit 0; }
fi
need=()
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
    echo "SKIPPED aarch64: could not install ${need[*]}"
    exit 0
  fi
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
cargo clippy --target "$T" --lib -- -D warnings
# Release: candle's reference forward pass is slow under emulation in a debug build.
cargo test --release --target "$T" --test emulator_fast --test emulator_gradient
cargo test --release --target "$T" --test shipped_model fast_path_matches_candle
echo "aarch64 OK (NEON kernels match candle under qemu-user)"
