#!/usr/bin/env bash
# The default build must run on a fresh machine: the CLI and the C library may link only the
# C runtime (libc, libm, libgcc_s, the loader). Usage: scripts/check_linkage.sh FILE...
set -euo pipefail
allowed='^(linux-vdso\.so|linux-gate\.so|libc\.so|libm\.so|libgcc_s\.so|ld-linux[-a-z0-9_.]*\.so|/lib[0-9]*/ld-linux)'
bad=0
for f in "$@"; do
  [ -e "$f" ] || { echo "check_linkage: $f does not exist"; exit 1; }
  while read -r lib _; do
    [ -z "$lib" ] && continue
    name=$(basename "$lib")
    if ! [[ "$name" =~ $allowed || "$lib" =~ $allowed ]]; then
      echo "check_linkage: $f links $lib (only libc, libm, libgcc_s and the loader are allowed)"
      bad=1
    fi
  done < <(ldd "$f" | sed 's/^[[:space:]]*//')
done
[ "$bad" = 0 ] && echo "check_linkage: $* link only the C runtime"
exit "$bad"
