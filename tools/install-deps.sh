#!/bin/sh
# Installs the Debian packages libbytepiece needs to build and test, when they are missing.
# Usage: tools/install-deps.sh [--dev]   (--dev adds clang and its libFuzzer/sanitizer runtimes,
#                                        for the fuzzing build, and headless Chromium, which
#                                        renders the page of `bp report` in tests/cli_report.sh)
# Runs apt-get as root, or through sudo when it is available.
set -eu

packages="cmake gcc g++ make pkg-config zstd uthash-dev libcmocka-dev libzstd-dev libutf8proc-dev libcjson-dev sentencepiece"
[ "${1:-}" = "--dev" ] && packages="$packages clang libclang-rt-dev chromium chromium-driver"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-deps: need root (or sudo) to install:$missing" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
