#!/bin/sh
# report_chromium.sh -- renders the page of `bp report` in headless Chromium to a PNG and
# checks that it loads with no console message (no error, no blocked or missing resource)
# and that its SVG charts are there and drawn.
#
# Usage: sh tests/report_chromium.sh /path/to/bp
# Needs chromium (tools/install-deps.sh --dev installs it); skips (exit 77) without it,
# unless CI=true, where its absence is a failure. The page is a copy of the report with one
# probe script added at its end, which logs how many charts it finds and how many of them
# have a drawn size; that log line must be the only console message. A page with a planted
# console error checks first that such messages are caught.

BP=${1:?usage: sh report_chromium.sh /path/to/bp}
. "$(dirname "$0")/cli_lib.sh"
DATA=${BP_DATA_DIR:-$(cd "$(dirname "$0")/../data" && pwd)}

CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
    echo "chromium is not installed (tools/install-deps.sh --dev installs it)"
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi

cd "$T" || exit 1
# render PAGE PNG: screenshot of PAGE; the console messages land in $T/console.
render() {
    DBUS_SESSION_BUS_ADDRESS=disabled: timeout 120 "$CHROMIUM" --headless --no-sandbox \
        --disable-gpu --no-first-run --disable-extensions --disable-dev-shm-usage \
        --user-data-dir="$T/profile" --enable-logging=stderr --v=0 --hide-scrollbars \
        --window-size=1000,2400 --screenshot="$T/$2" "file://$T/$1" >/dev/null 2>"$T/chromium.log"
    grep -F ':CONSOLE' "$T/chromium.log" >"$T/console"
}

# png_size FILE: "WIDTH HEIGHT" from the PNG header (its signature checked).
png_size() {
    od -An -v -tu1 -N 24 "$1" | tr -s ' ' '\n' | sed '/^$/d' | awk '
        { b[NR] = $1 }
        END {
            if (b[1] != 137 || b[2] != 80 || b[3] != 78 || b[4] != 71) { print "not a PNG"; exit }
            print b[17] * 16777216 + b[18] * 65536 + b[19] * 256 + b[20], \
                  b[21] * 16777216 + b[22] * 65536 + b[23] * 256 + b[24]
        }'
}

printf '<!DOCTYPE html><html><body><p>planted</p><script>console.error("planted error")</script></body></html>' >planted.html
render planted.html planted.png
check "self-check: a console error is caught" grep -q 'planted error' console

"$BP" train -q -o sample.model --vocab-size 300,400,538 "$DATA/sample.txt" || exit 1
expect_exit 0 "report on three sizes of one training" report -o page.html \
    --text "$DATA/sample.txt" --text "$DATA/hello.txt" \
    sample.model.300 sample.model.400 sample.model.538
sed 's#</body>#<script>var c = document.querySelectorAll("svg.chart"), drawn = 0;\
for (var i = 0; i < c.length; i++) { var b = c[i].getBBox(); if (b.width > 100 \&\& b.height > 100 \&\& c[i].querySelectorAll("rect, path").length > 2) drawn++; }\
console.log("probe: " + c.length + " charts, " + drawn + " drawn");</script></body>#' \
    page.html >probed.html
render probed.html page.png
check "the page loads with no console message but the probe's ($(head -c 300 console))" \
    test "$(grep -vc 'probe: ' console)" -eq 0
check "the 8 SVG charts are there and drawn ($(grep -o 'probe: [^"]*' console))" \
    grep -q 'probe: 8 charts, 8 drawn' console
check "the screenshot is a PNG of the window's size ($(png_size page.png))" \
    test "$(png_size page.png)" = "1000 2400"
check "the screenshot is not blank (more than 50 kB)" test "$(wc -c <page.png)" -gt 50000

finish
