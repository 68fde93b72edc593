# cli_lib.sh -- the harness the test scripts share. Sourced right after a script sets
# BP (the path of the bp binary): makes BP absolute (some checks cd), creates the scratch
# directory $T (removed at exit), and defines the counters and checks. A script that runs
# no bp of its own (install_test.sh) leaves BP empty and does not use run/expect_exit.
# Every check prints "ok - DESCRIPTION" or "not ok - DESCRIPTION"; `finish` prints
# "N passed, M failed" and exits 0 only when nothing failed.

case $BP in
*/*) BP=$(cd "$(dirname "$BP")" && pwd)/$(basename "$BP") ;;
esac
T=$(mktemp -d) || exit 1
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0

ok() {
    passed=$((passed + 1))
    printf 'ok - %s\n' "$1"
}

not_ok() {
    failed=$((failed + 1))
    printf 'not ok - %s\n' "$1"
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# check_logged DESCRIPTION COMMAND...: the same, for a noisy COMMAND: its output goes to
# $T/log, whose last 20 lines are shown on failure.
check_logged() {
    desc=$1
    shift
    if "$@" >"$T/log" 2>&1; then
        ok "$desc"
    else
        not_ok "$desc"
        tail -n 20 "$T/log" | sed 's/^/    /'
    fi
}

# run ARGS...: bp with ARGS and no input; stdout in $T/out, stderr in $T/err, exit status
# in $status.
run() {
    "$BP" "$@" </dev/null >"$T/out" 2>"$T/err"
    status=$?
}

# run_with_stdin ARGS...: the same, reading the caller's standard input.
run_with_stdin() {
    "$BP" "$@" >"$T/out" 2>"$T/err"
    status=$?
}

# expect_exit STATUS DESCRIPTION ARGS...: runs bp with ARGS and checks the exit status.
expect_exit() {
    want=$1
    desc=$2
    shift 2
    run "$@"
    if [ "$status" -eq "$want" ]; then
        ok "$desc"
    else
        not_ok "$desc (exit $status, want $want; stderr: $(head -c 300 "$T/err"))"
    fi
}

# stderr_has TEXT DESCRIPTION / out_has TEXT DESCRIPTION: the last run's stderr or stdout
# contains TEXT (a fixed string).
stderr_has() {
    check "$2" grep -qF -e "$1" "$T/err"
}

out_has() {
    check "$2" grep -qF -e "$1" "$T/out"
}

stderr_empty() {
    check "$1" test ! -s "$T/err"
}

# same FILE1 FILE2 DESCRIPTION: the two files are byte-identical; a failure names the first
# byte that differs (cmp's message).
same() {
    if cmp -s "$1" "$2"; then
        ok "$3"
    else
        not_ok "$3 ($(cmp "$1" "$2" 2>&1 | head -n 1))"
    fi
}

# differ FILE1 FILE2: a command that succeeds when the files differ.
differ() {
    ! cmp -s "$1" "$2"
}

# absent PATH DESCRIPTION: nothing exists at PATH.
absent() {
    check "$2" test ! -e "$1"
}

# need_golden_texts: sets DATA (the repository's data/, or $BP_DATA_DIR) and GOLDEN (the
# golden texts, ../shared/corpus or $BP_SHARED_DIR/corpus), and skips the test (exit 77)
# when data/sample.txt or one of the golden texts is not there.
need_golden_texts() {
    DATA=${BP_DATA_DIR:-$(dirname "$0")/../data}
    GOLDEN=${BP_SHARED_DIR:-$(dirname "$0")/../../shared}/corpus
    for f in "$DATA/sample.txt" "$GOLDEN/golden_en.txt" "$GOLDEN/golden_zh.txt" "$GOLDEN/golden_edge.txt"; do
        if [ ! -f "$f" ]; then
            echo "SKIP: $f not found (set BP_DATA_DIR and BP_SHARED_DIR)"
            exit 77
        fi
    done
}

have_zstd() {
    command -v zstd >/dev/null 2>&1
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}
