#!/bin/sh
# install_test.sh -- installs libbytepiece as a user would and builds programs against it.
#
# Usage: sh tests/install_test.sh SOURCE_DIR
# Configures SOURCE_DIR with the default prefix in a temporary directory, builds it and runs
# `cmake --install BUILD --prefix DIR`, then moves DIR elsewhere (the install must be
# relocatable) and checks: the files are where GNUInstallDirs puts them; the shared library
# has its SONAME and exports only the bp_ names of the header; bp runs; the installed header
# compiles as C99 (-pedantic) and as C++11; tests/install_consumer/consumer.c builds and runs
# through pkg-config (shared, and static with --static) and through find_package(bytepiece)
# (bytepiece::bytepiece and bytepiece::bytepiece_static); a C++ program links against the
# library. Prints "ok - ..." or "not ok - ..." per check and ends with "N passed, M failed".
# Exit status: 0 if every check passed, 1 otherwise, 77 (skipped) when cmake, pkg-config or
# a C compiler is missing.

SRC=${1:?usage: sh install_test.sh SOURCE_DIR}
SRC=$(cd "$SRC" && pwd) || exit 1
CC=${CC:-cc}
CXX=${CXX:-c++}
for tool in cmake pkg-config "$CC"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not found"
        exit 77
    fi
done
BP= # cli_lib.sh's bp is not used here: the installed bp is run by its path
. "$(dirname "$0")/cli_lib.sh"
jobs=$(nproc 2>/dev/null || echo 2)
# The soname carries the major version of the header (libbytepiece.so.MAJOR).
major=$(sed -n 's/^#define BP_VERSION_MAJOR \([0-9]*\)$/\1/p' "$SRC/include/bytepiece.h")

# ---- Build and install, the way the README says ----
# The build is configured with the default prefix (/usr/local), then installed elsewhere.
check_logged "configure with the default prefix" \
    cmake -S "$SRC" -B "$T/build" -DCMAKE_BUILD_TYPE=Release -DBP_BUILD_TESTS=OFF
check_logged "build" cmake --build "$T/build" -j "$jobs"
check_logged "cmake --install --prefix" cmake --install "$T/build" --prefix "$T/staging"
if [ "$failed" -gt 0 ]; then
    finish
fi
# A relocatable tree works wherever it lands: move it before using it.
mkdir -p "$T/moved" && mv "$T/staging" "$T/moved/prefix"
P=$T/moved/prefix
libdir=$P/lib # GNUInstallDirs gives lib (not lib/<multiarch>) under a prefix other than /usr

for f in bin/bp include/bytepiece.h lib/libbytepiece.a lib/libbytepiece.so \
    "lib/libbytepiece.so.$major" share/man/man1/bp.1 lib/pkgconfig/bytepiece.pc \
    lib/cmake/bytepiece/bytepiece-config.cmake \
    lib/cmake/bytepiece/bytepiece-config-version.cmake \
    lib/cmake/bytepiece/bytepiece-targets.cmake; do
    check_logged "installed $f" test -e "$P/$f"
done
check_logged "no installed file names the staging directory" \
    sh -c "! grep -rl '$T/staging' '$P/lib/pkgconfig' '$P/lib/cmake'"

# ---- The shared library ----
if command -v readelf >/dev/null 2>&1; then
    check_logged "SONAME is libbytepiece.so.$major" \
        sh -c "readelf -d '$libdir/libbytepiece.so' | grep -q 'SONAME.*\\[libbytepiece\\.so\\.$major\\]'"
fi
if command -v nm >/dev/null 2>&1; then
    nm -D --defined-only "$libdir/libbytepiece.so" | awk '{print $3}' | sort >"$T/exported"
    grep -oE 'BP_API [^(]*\(' "$P/include/bytepiece.h" | grep -oE 'bp_[a-z0-9_]+\($' |
        tr -d '(' | sort >"$T/declared"
    check_logged "the shared library exports exactly the functions of the header" \
        cmp "$T/exported" "$T/declared"
fi

# ---- bp ----
check_logged "bp --version runs from the moved prefix" sh -c "'$P/bin/bp' --version | grep -q '^bp '"
if command -v man >/dev/null 2>&1; then
    check_logged "the man page renders" sh -c "MANWIDTH=80 man -l '$P/share/man/man1/bp.1' | grep -q encode"
fi

# ---- The header as C99 and as C++ ----
printf '#include <bytepiece.h>\nint main(void) { return bp_version_number() == BP_VERSION_NUMBER ? 0 : 1; }\n' \
    >"$T/header.c"
check_logged "the header compiles as C99 -pedantic -Werror" \
    "$CC" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$P/include" "$T/header.c"
if command -v "$CXX" >/dev/null 2>&1; then
    check_logged "the header compiles as C++11 -pedantic -Werror" \
        "$CXX" -std=c++11 -pedantic -Wall -Wextra -Werror -x c++ -fsyntax-only \
        -I"$P/include" "$T/header.c"
    check_logged "a C++ program links against the library" \
        "$CXX" -std=c++11 -x c++ "$T/header.c" -x none -o "$T/cxx_consumer" \
        -I"$P/include" -L"$libdir" -lbytepiece
    check_logged "the C++ program runs" env LD_LIBRARY_PATH="$libdir" "$T/cxx_consumer"
else
    echo "skipped: the C++ checks need a C++ compiler ($CXX)"
fi
# clang's -Weverything includes -Wdocumentation, which reads the header's /*! comments.
if command -v clang >/dev/null 2>&1; then
    check_logged "the header compiles warning-free under clang -Weverything (C)" \
        clang -std=c99 -Weverything -Werror -fsyntax-only -I"$P/include" "$T/header.c"
    check_logged "the header compiles warning-free under clang -Weverything (C++)" \
        clang++ -std=c++11 -Weverything -Wno-c++98-compat -Wno-c++98-compat-pedantic -Werror \
        -x c++ -fsyntax-only -I"$P/include" "$T/header.c"
else
    echo "skipped: the clang -Weverything checks need clang"
fi

# ---- pkg-config ----
export PKG_CONFIG_PATH="$libdir/pkgconfig"
check_logged "pkg-config --modversion is the project version" \
    sh -c "test \"\$(pkg-config --modversion bytepiece)\" = \"\$('$P/bin/bp' --version | sed 's/^bp \\([^ ]*\\).*/\\1/')\""
check_logged "pkg-config --cflags is the moved prefix's include directory and nothing else" \
    sh -c "set -- \$(pkg-config --cflags bytepiece); test \$# -eq 1 && test \"\$1\" = '-I$P/lib/pkgconfig/../../include'"
consumer=$SRC/tests/install_consumer/consumer.c
# shellcheck disable=SC2046
check_logged "consumer builds with \$(pkg-config --cflags --libs bytepiece)" \
    "$CC" "$consumer" -o "$T/consumer_pc" $(pkg-config --cflags --libs bytepiece)
check_logged "the pkg-config consumer runs (shared library)" \
    env LD_LIBRARY_PATH="$libdir" "$T/consumer_pc"
# What the README tells a user: an rpath to the library directory, and the program runs
# from anywhere without LD_LIBRARY_PATH.
# shellcheck disable=SC2046
check_logged "consumer builds with an rpath to \$(pkg-config --variable=libdir bytepiece)" \
    "$CC" "$consumer" -o "$T/consumer_rpath" $(pkg-config --cflags --libs bytepiece) \
    -Wl,-rpath,"$(pkg-config --variable=libdir bytepiece)"
check_logged "the rpath consumer runs without LD_LIBRARY_PATH" \
    env -u LD_LIBRARY_PATH "$T/consumer_rpath"
if command -v readelf >/dev/null 2>&1; then
    check_logged "the pkg-config consumer needs libbytepiece.so.$major" \
        sh -c "readelf -d '$T/consumer_pc' | grep -q 'NEEDED.*libbytepiece\\.so\\.$major'"
fi
# Static: what --static adds (Requires.private, Libs.private) must be enough.
static_libs=$(pkg-config --static --libs bytepiece | sed 's/-lbytepiece/-l:libbytepiece.a/')
# shellcheck disable=SC2046,SC2086
check_logged "consumer builds with pkg-config --static against libbytepiece.a" \
    "$CC" "$consumer" -o "$T/consumer_pc_static" $(pkg-config --cflags bytepiece) $static_libs
check_logged "the static pkg-config consumer runs without the shared library" "$T/consumer_pc_static"

# ---- CMake find_package ----
check_logged "consumer project configures with find_package(bytepiece CONFIG)" \
    cmake -S "$SRC/tests/install_consumer" -B "$T/consumer_build" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_BUILD_TYPE=Release
check_logged "consumer project builds" cmake --build "$T/consumer_build"
check_logged "the CMake consumer runs (bytepiece::bytepiece, shared)" "$T/consumer_build/consumer"
check_logged "the CMake consumer runs (bytepiece::bytepiece_static)" "$T/consumer_build/consumer_static"
check_logged "the consumers print the version and the ids" \
    sh -c "'$T/consumer_build/consumer' | grep -qx 'bytepiece [0-9.]*: 259 260 2 -> hello world'"

# ---- The Python package (built when Python's development files were found) ----
pypkg=$P/lib/python3/dist-packages
if [ -d "$pypkg/libbytepiece" ]; then
    check_logged "the installed Python package imports from the moved tree and round-trips" \
        env PYTHONPATH="$pypkg" python3 -c "import libbytepiece as b, sys
m = b.Model(sys.argv[1]); assert m.decode(m.encode(b'hello world')) == b'hello world'" \
        "$SRC/data/sample.model"
fi

finish
