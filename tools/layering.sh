#!/bin/sh
# tools/layering.sh -- checks that src/ and tools/ are each a strict stack, from the symbols
# of the built objects rather than from #include lines, which say nothing about calls.
#
# usage: tools/layering.sh LIBRARY.a... OBJECT.o...
#   Members of an archive are the library (src/NAME.c), loose objects are tools
#   (tools/NAME.c). An argument may hold several paths separated by ';' (what CMake's
#   $<TARGET_OBJECTS:...> gives).
#
# File A depends on file B when A references (nm: undefined) a global symbol B defines. The
# edges are printed sorted, one "A -> B" a line. The check fails (exit 1, a message on
# stderr) on a cycle among them, on a library file that depends on a tool, and on a tool
# that uses a library symbol that is not a public function of include/bytepiece.h (a
# BP_API declaration): the tools must keep working against the shared library, which
# exports nothing else. Exit 2: bad usage or unreadable objects.
#
# A symbol defined by several tools' objects (main, one per program) counts as defined by
# each of them, so an edge is never missed; none of them is referenced today.
set -u

header=$(dirname "$0")/../include/bytepiece.h
if [ $# -eq 0 ]; then
    echo "usage: $0 LIBRARY.a... OBJECT.o..." >&2
    exit 2
fi
if [ ! -r "$header" ]; then
    echo "$0: cannot read $header" >&2
    exit 2
fi

# Split arguments on ';' as well (a CMake list arrives as one argument).
old_ifs=$IFS
IFS=';'
# shellcheck disable=SC2086,SC2048
set -- $*
IFS=$old_ifs

symbols=$(nm -A -P "$@") || {
    echo "$0: nm failed on the objects given" >&2
    exit 2
}

# Pass 1: the public functions of the header, then the symbols of every object; prints
# "E a b" for each edge and "V message" for each tool using a private library symbol.
found=$(
    {
        sed -n 's/^BP_API[^(]*[^A-Za-z0-9_(]\([A-Za-z_][A-Za-z0-9_]*\)[ \t]*(.*/public \1/p' \
            "$header"
        printf '%s\n' "$symbols"
    } | awk '
    $1 == "public" { public[$2] = 1; next }
    {
        # "lib.a[member.o]: sym T ..." (archive member) or "obj.o: sym U" (loose object)
        where = $1
        sub(/:$/, "", where)
        if (where ~ /\]$/) {
            sub(/^.*\[/, "", where)
            sub(/\]$/, "", where)
            layer = "src/"
        } else {
            sub(/^.*\//, "", where)
            layer = "tools/"
        }
        sub(/\.o$/, "", where)
        node = layer where
        sym = $2
        type = $3
        if (type == "U") {
            n_refs++
            ref_node[n_refs] = node
            ref_sym[n_refs] = sym
        } else if (type ~ /^[A-Z]$/) {
            defined_by[sym] = defined_by[sym] " " node
        }
    }
    END {
        for (i = 1; i <= n_refs; i++) {
            sym = ref_sym[i]
            if (!(sym in defined_by))
                continue
            n = split(defined_by[sym], owners, " ")
            for (k = 1; k <= n; k++) {
                if (owners[k] == ref_node[i])
                    continue
                print "E " ref_node[i] " " owners[k]
                if (ref_node[i] ~ /^tools\// && owners[k] ~ /^src\// && !(sym in public))
                    print "V " ref_node[i] " uses " sym " of " owners[k] \
                          ", which is not a public function of include/bytepiece.h"
                if (ref_node[i] ~ /^src\// && owners[k] ~ /^tools\//)
                    print "V " ref_node[i] " uses " sym " of " owners[k] \
                          ": the library cannot depend on a tool"
            }
        }
    }' | sort -u
)

printf '%s\n' "$found" | awk '$1 == "E" { print $2 " -> " $3 }'

# Pass 2: the cycles, by a depth-first search over the sorted edges (so the report is the
# same on every run). Each back edge closes one cycle, printed from its first file.
printf '%s\n' "$found" | awk '
function visit(u,    i, v, j, path) {
    state[u] = 1
    stack[++depth] = u
    for (i = 1; i <= n_out[u]; i++) {
        v = out[u, i]
        if (state[v] == 1) {
            path = v
            for (j = depth; stack[j] != v; j--)
                ;
            for (j = j + 1; j <= depth; j++)
                path = path " -> " stack[j]
            layer = v
            sub(/\/.*/, "/", layer)
            print "layering: cycle in " layer ": " path " -> " v > "/dev/stderr"
            failed = 1
        } else if (state[v] == 0) {
            visit(v)
        }
    }
    depth--
    state[u] = 2
}
$1 == "E" {
    if (!($2 in state)) { state[$2] = 0; order[++n_nodes] = $2 }
    if (!($3 in state)) { state[$3] = 0; order[++n_nodes] = $3 }
    out[$2, ++n_out[$2]] = $3
}
$1 == "V" {
    sub(/^V /, "")
    print "layering: " $0 > "/dev/stderr"
    failed = 1
}
END {
    for (i = 1; i <= n_nodes; i++)
        if (state[order[i]] == 0)
            visit(order[i])
    exit failed
}'
