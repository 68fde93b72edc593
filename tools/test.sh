#!/bin/sh
# Runs the whole test suite, as CI does: installs what is missing, builds with warnings as
# errors, runs every test with ctest, then builds and runs them all again under
# AddressSanitizer + UndefinedBehaviorSanitizer (leaks included), runs the threaded tests
# (ctest label "threads") under ThreadSanitizer, and runs each libFuzzer target of
# tests/fuzz for a short while (tools/fuzz.sh; BP_FUZZ_SECONDS per target, default 30;
# 0 skips the fuzz smoke run).
# Tests that need the reference folder ../shared skip without it; under CI (CI=true) its
# absence is a failure instead.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh --dev
[ "${CI:-}" = true ] && export BP_REQUIRE_SHARED=1
jobs=$(nproc 2>/dev/null || echo 2)
# Any sanitizer report fails the test that triggered it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
for variant in release sanitize tsan; do
    ctest_args=""
    case $variant in
        release) flags="-DCMAKE_BUILD_TYPE=Release" ;;
        sanitize) flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBP_SANITIZE=ON -DBP_ASSERTS=ON" ;;
        tsan) flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBP_TSAN=ON"; ctest_args="-L threads" ;;
    esac
    echo "== $variant build"
    # shellcheck disable=SC2086
    cmake -S . -B "build-test-$variant" -DBP_WERROR=ON $flags >/dev/null
    cmake --build "build-test-$variant" -j "$jobs"
    echo "== $variant tests"
    # shellcheck disable=SC2086
    (cd "build-test-$variant" && ctest --output-on-failure -j "$jobs" $ctest_args)
done
fuzz_seconds=${BP_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" -gt 0 ]; then
    echo "== fuzz smoke run ($fuzz_seconds s per target)"
    FUZZ_BUILD_DIR=build-test-fuzz tools/fuzz.sh all "$fuzz_seconds"
fi
