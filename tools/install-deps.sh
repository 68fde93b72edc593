#!/bin/sh
# Installs the Debian packages libbytepiece needs to build and test, when they are missing,
# then the npm packages of tools/hf (the Node binding of Hugging Face tokenizers that
# tests/cli_hf.sh loads exports into), pinned by its lockfile, into tools/hf/node_modules.
# Usage: tools/install-deps.sh [--dev]   (--dev adds clang and its libFuzzer/sanitizer runtimes,
#                                        for the fuzzing build, and headless Chromium, which
#                                        renders the page of `bp report` in tests/cli_report.sh)
# Runs apt-get as root, or through sudo when it is available.
set -eu

packages="cmake gcc g++ make pkg-config zstd uthash-dev libcmocka-dev libzstd-dev libutf8proc-dev libcjson-dev sentencepiece nodejs"
[ "${1:-}" = "--dev" ] && packages="$packages clang libclang-rt-dev chromium chromium-driver"
# The Python binding (python/) and its tests.
[ "${1:-}" = "--dev" ] && packages="$packages python3-dev python3-numpy python3-pytest"
# The distributed driver's tests: GNU parallel, and a one-node Slurm cluster
# (tests/cli_distributed.sh, tests/slurm_one_node.sh).
[ "${1:-}" = "--dev" ] && packages="$packages parallel slurmctld slurmd slurm-client munge"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm comes with some builds of nodejs, and is a package of its own in Debian's
command -v npm >/dev/null 2>&1 || missing="$missing npm"

install_npm_packages() {
    hf=$(cd "$(dirname "$0")" && pwd)/hf
    # npm ci replaces node_modules: only when it is absent or older than the lockfile
    [ "$hf/node_modules/.package-lock.json" -nt "$hf/package-lock.json" ] && return 0
    echo "install-deps: installing the npm packages of tools/hf" >&2
    npm ci --prefix "$hf" --no-audit --no-fund >/dev/null
}

if [ -z "$missing" ]; then
    install_npm_packages
    exit 0
fi

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
install_npm_packages
