#!/bin/sh
# layering_selftest.sh -- tools/layering.sh on tiny objects built here: a clean stack
# passes and prints its exact edges; each kind of violation (a cycle in src/, a cycle in
# tools/, a tool using a private library symbol, the library using a tool) fails with exit
# 1 and a message naming it. Variants of the same few sources are chosen with -D.
#
# Usage: sh tests/layering_selftest.sh CC PATH/TO/tools/layering.sh
# Prints "ok - ..." or "not ok - ..." per check and ends with "N passed, M failed".

CC=${1:?usage: sh layering_selftest.sh CC layering.sh}
LAYERING=${2:?usage: sh layering_selftest.sh CC layering.sh}
BP=
. "$(dirname "$0")/cli_lib.sh"

# The library: api.c (bp_version_number, a public function of bytepiece.h) over low.c.
cat >"$T/low.c" <<'C'
int low_value(void);
#ifdef SRC_CYCLE
int api_helper(void);
int low_value(void) { return api_helper(); }
#elif defined(LIB_USES_TOOL)
int tool_helper(void);
int low_value(void) { return tool_helper(); }
#else
int low_value(void) { return 1; }
#endif
C
cat >"$T/api.c" <<'C'
int low_value(void);
int api_helper(void) { return 2; }
unsigned bp_version_number(void) { return (unsigned)low_value(); }
C
# The tools: main.c over util.c, over the public function.
cat >"$T/util.c" <<'C'
int tool_helper(void);
#ifdef TOOLS_CYCLE
int main_helper(void);
int tool_helper(void) { return main_helper(); }
#else
int tool_helper(void) { return 3; }
#endif
C
cat >"$T/main.c" <<'C'
unsigned bp_version_number(void);
int tool_helper(void);
int low_value(void);
int main_helper(void) { return 4; }
int main(void)
{
#ifdef PRIVATE_USE
    return low_value();
#else
    return (int)bp_version_number() + tool_helper();
#endif
}
C

# layering CASE_FLAG: builds every object with -DCASE_FLAG and runs the check; stdout in
# $T/out, stderr in $T/err, exit status in $status.
layering() {
    rm -rf "$T/obj"
    mkdir "$T/obj"
    for f in low api util main; do
        "$CC" -c "-D$1" "$T/$f.c" -o "$T/obj/$f.c.o" || return 1
    done
    ar rc "$T/obj/libx.a" "$T/obj/low.c.o" "$T/obj/api.c.o"
    sh "$LAYERING" "$T/obj/libx.a" "$T/obj/util.c.o;$T/obj/main.c.o" >"$T/out" 2>"$T/err"
    status=$?
}

layering CLEAN
check "a clean stack: exit 0 (exit $status; $(cat "$T/err"))" test "$status" -eq 0
printf '%s\n' 'src/api.c -> src/low.c' 'tools/main.c -> src/api.c' \
    'tools/main.c -> tools/util.c' >"$T/want"
same "$T/out" "$T/want" "a clean stack: the edges, sorted"

layering SRC_CYCLE
check "a cycle in src/: exit 1 (exit $status)" test "$status" -eq 1
stderr_has "layering: cycle in src/: src/api.c -> src/low.c -> src/api.c" \
    "a cycle in src/: named"

layering TOOLS_CYCLE
check "a cycle in tools/: exit 1 (exit $status)" test "$status" -eq 1
stderr_has "layering: cycle in tools/: tools/main.c -> tools/util.c -> tools/main.c" \
    "a cycle in tools/: named"

layering PRIVATE_USE
check "a tool using a private library symbol: exit 1 (exit $status)" test "$status" -eq 1
stderr_has "layering: tools/main.c uses low_value of src/low.c, which is not a public function" \
    "a tool using a private library symbol: named"

layering LIB_USES_TOOL
check "the library using a tool: exit 1 (exit $status)" test "$status" -eq 1
stderr_has "layering: src/low.c uses tool_helper of tools/util.c: the library cannot depend on a tool" \
    "the library using a tool: named"

sh "$LAYERING" >"$T/out" 2>"$T/err"
status=$?
check "no arguments: exit 2 (exit $status)" test "$status" -eq 2
stderr_has "usage:" "no arguments: a usage message"

finish
