#!/usr/bin/env bash
# Install spinflip's C library where C, C++ and Fortran programs can link it:
#   scripts/install_clib.sh [PREFIX]            (PREFIX defaults to $HOME/.local)
#
#   PREFIX/lib/libspinflip.so.X.Y.Z   the shared library (SONAME libspinflip.so.X, set by build.rs)
#   PREFIX/lib/libspinflip.so.X -> libspinflip.so.X.Y.Z, libspinflip.so -> libspinflip.so.X
#   PREFIX/lib/libspinflip.a          the static library
#   PREFIX/lib/pkgconfig/spinflip.pc  for pkg-config (Libs.private: what a static link needs)
#   PREFIX/include/spinflip.h, PREFIX/include/spinflip_polychord.h
#   PREFIX/share/spinflip/models/     the shipped models; programs far from the source tree set
#                                     SPINFLIP_MODELS to this folder (pkg-config's modelsdir)
#
# X.Y.Z is the version in Cargo.toml. Without SPINFLIP_BUILD_DIR the script runs
# `cargo build --release --lib` (a no-op when the release build is current) and installs from
# target/release; SPINFLIP_BUILD_DIR=DIR installs the libspinflip.so and libspinflip.a already
# in DIR instead (e.g. target/debug, as tests/c_install.rs does). Files are replaced by
# rename, so a program running the old library keeps its copy.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$HOME/.local}

# What a program linking libspinflip.a needs besides it, from
#   cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs
# (Rust's standard library; the default build links nothing else, which .ci/run checks with
# scripts/check_linkage.sh). tests/c_install.rs links a static program with this list.
libs_private="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

version=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml" | head -n 1)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "install_clib: no version in $repo/Cargo.toml" >&2; exit 1; }
major=${version%%.*}
description=$(sed -n '/^\[package\]/,/^\[/s/^description *= *"\([^"]*\)".*/\1/p' "$repo/Cargo.toml" | head -n 1)

if [ -n "${SPINFLIP_BUILD_DIR:-}" ]; then
  build=$SPINFLIP_BUILD_DIR
else
  (cd "$repo" && cargo build --release --lib)
  build=$repo/target/release
fi
for f in libspinflip.so libspinflip.a; do
  [ -f "$build/$f" ] || { echo "install_clib: $build/$f does not exist (build it, or set SPINFLIP_BUILD_DIR)" >&2; exit 1; }
done
if command -v readelf >/dev/null 2>&1; then
  soname=$(readelf -d "$build/libspinflip.so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
  if [ "$soname" != "libspinflip.so.$major" ]; then
    echo "install_clib: $build/libspinflip.so has SONAME '${soname}', expected libspinflip.so.$major (built without build.rs?)" >&2
    exit 1
  fi
fi

mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
libdir=$prefix/lib
includedir=$prefix/include
modelsdir=$prefix/share/spinflip/models
mkdir -p "$libdir/pkgconfig" "$includedir" "$modelsdir"

# put MODE SRC DEST: copy beside DEST, then rename over it.
put() {
  local tmp
  tmp="$3.tmp.$$"
  cp "$2" "$tmp"
  chmod "$1" "$tmp"
  mv -f "$tmp" "$3"
}
# link TARGET NAME (in libdir): a symlink, replaced by rename.
link() {
  ln -sfn "$1" "$libdir/$2.tmp.$$"
  mv -f "$libdir/$2.tmp.$$" "$libdir/$2"
}

put 755 "$build/libspinflip.so" "$libdir/libspinflip.so.$version"
link "libspinflip.so.$version" "libspinflip.so.$major"
link "libspinflip.so.$major" libspinflip.so
put 644 "$build/libspinflip.a" "$libdir/libspinflip.a"
put 644 "$repo/include/spinflip.h" "$includedir/spinflip.h"
put 644 "$repo/include/spinflip_polychord.h" "$includedir/spinflip_polychord.h"

# The models the library loads (weights, descriptions, the map likelihoods' arrays); not the
# evaluation plots or models/training/.
n_models=0
for f in "$repo"/models/*.json "$repo"/models/*.safetensors "$repo"/models/*.npz "$repo"/models/*.npy; do
  [ -f "$f" ] || continue
  put 644 "$f" "$modelsdir/$(basename "$f")"
  n_models=$((n_models + 1))
done

pc_tmp="$libdir/pkgconfig/spinflip.pc.tmp.$$"
cat >"$pc_tmp" <<EOF
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include
modelsdir=\${prefix}/share/spinflip/models

Name: spinflip
Description: $description (C library)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lspinflip
Libs.private: $libs_private
EOF
chmod 644 "$pc_tmp"
mv -f "$pc_tmp" "$libdir/pkgconfig/spinflip.pc"

cat <<EOF
install_clib: spinflip $version from $build into $prefix
  $libdir/libspinflip.so.$version (+ libspinflip.so.$major, libspinflip.so), libspinflip.a
  $includedir/spinflip.h, spinflip_polychord.h
  $libdir/pkgconfig/spinflip.pc
  $modelsdir ($n_models files)
Link:   cc prog.c \$(pkg-config --cflags --libs spinflip) -Wl,-rpath,$libdir
        (with PKG_CONFIG_PATH=$libdir/pkgconfig; or LD_LIBRARY_PATH=$libdir at run time)
Models: export SPINFLIP_MODELS=$modelsdir
EOF
