#!/bin/sh
# Runs the whole test suite, as CI does: installs what is missing, builds with warnings as
# errors, runs every test with ctest, then builds and runs them all again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
# Tests that need the reference folder ../shared skip without it; under CI (CI=true) its
# absence is a failure instead.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ "${CI:-}" = true ] && export BP_REQUIRE_SHARED=1
jobs=$(nproc 2>/dev/null || echo 2)
for variant in release sanitize; do
    case $variant in
        release) flags="-DCMAKE_BUILD_TYPE=Release" ;;
        sanitize) flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBP_SANITIZE=ON" ;;
    esac
    echo "== $variant build"
    # shellcheck disable=SC2086
    cmake -S . -B "build-test-$variant" -DBP_WERROR=ON $flags >/dev/null
    cmake --build "build-test-$variant" -j "$jobs"
    echo "== $variant tests"
    (cd "build-test-$variant" && ctest --output-on-failure -j "$jobs")
done
