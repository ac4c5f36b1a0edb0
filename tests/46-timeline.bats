#!/usr/bin/env bats
# tests/46-timeline.bats - --timeline FILE.html and --timeline-from, checked
# in a real browser: Debian's chromium, headless, renders the page; its DOM
# must hold every attempt's bar with the right colour class and title, and
# its screenshot must be a picture of the expected size.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	command -v chromium >/dev/null || {
		echo "chromium is not installed (.ci/deps test installs it)" >&2
		return 1
	}
}

# chrome ARGS... : headless chromium with a profile of the test's own.
chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T/chrome" --hide-scrollbars "$@" 2>>"$T/chrome.err" 3>&-
}

# bars PAGE : renders PAGE and prints a line per bar of the chart, sorted:
# "TASK<tab>ATTEMPT<tab>CLASSES<tab>TITLE" (the title's lines joined by
# " | "); then "body<tab>BARS<tab>RENDER-MS" and "summary<tab>TEXT".
bars() {
	chrome --dump-dom "file://$1" >"$T/dom.html"
	python3 - "$T/dom.html" <<-'PY'
	import html.parser, sys
	class P(html.parser.HTMLParser):
	    def __init__(self):
	        super().__init__()
	        self.bars, self.cur, self.text, self.where = [], None, "", None
	    def handle_starttag(self, tag, attrs):
	        a = dict(attrs)
	        if tag == "rect" and "bar" in a.get("class", "").split():
	            self.cur = [a.get("data-task"), a.get("data-attempt"), a["class"], ""]
	        elif tag == "title" and self.cur:
	            self.where = "title"
	        elif tag == "body":
	            print("body\t%s\t%s" % (a.get("data-bars"), a.get("data-render-ms")))
	        elif tag == "h1":
	            self.where = "h1"
	    def handle_data(self, data):
	        if self.where == "title":
	            self.cur[3] += data
	        elif self.where == "h1":
	            print("summary\t" + data)
	    def handle_endtag(self, tag):
	        if tag == "title" and self.cur:
	            self.bars.append(self.cur)
	            self.cur, self.where = None, None
	        elif tag == "h1":
	            self.where = None
	p = P()
	p.feed(open(sys.argv[1], encoding="utf-8").read())
	for b in sorted(p.bars, key=lambda b: (b[0], b[1])):
	    print("\t".join([b[0], b[1], b[2], b[3].replace("\n", " | ")]))
	PY
}

# A task file with an outcome of every kind but terminated, and a
# dependency chain fetch -> build -> test that ends the run.
pipeline() {
	cat >"$T/tasks.yaml" <<-'YAML'
	limit: 3
	tasks:
	  - {name: fetch, run: "sleep 0.3"}
	  - {name: build, run: "sleep 0.5", needs: [fetch]}
	  - {name: lint, run: "sleep 0.1; exit 1"}
	  - {name: flaky, run: "sleep 0.1; exit 4", retries: 1}
	  - {name: test, run: "sleep 0.6", needs: [build]}
	  - {name: crash, run: "kill -SEGV $$"}
	  - {name: slow, run: "exec sleep 5", timeout: 300ms}
	YAML
	run alloter -q -f "$T/tasks.yaml" --timeline "$T/t.html" --report "$T/r.json"
	[ "$status" -eq 1 ]
}

@test "every attempt of a run has its bar, with the colour class of its outcome and a title" {
	pipeline
	bars "$T/t.html" >"$T/bars"
	cat "$T/bars"
	[ "$(grep -c $'\tbar ' "$T/bars")" -eq 8 ]
	grep -qx $'body\t8\t[0-9]*' "$T/bars"
	grep -qx $'summary\talloter: 7 tasks: 3 succeeded, 4 failed, 0 skipped (8 attempts) in [0-9.]*s' "$T/bars"
	grep -q $'^flaky\t1\tbar s-retried\tflaky (attempt 1) | sleep 0.1; exit 4 | retried: exit status 4 | ran ' "$T/bars"
	grep -q $'^flaky\t2\tbar s-failed\tflaky (attempt 2) | sleep 0.1; exit 4 | failed: exit status 4 | ran ' "$T/bars"
	grep -q $'^lint\t1\tbar s-failed\tlint (attempt 1) | sleep 0.1; exit 1 | failed: exit status 1 | ran ' "$T/bars"
	grep -q $'^crash\t1\tbar s-crashed\tcrash (attempt 1) | kill -SEGV $$ | crashed: killed by SIGSEGV | ran ' "$T/bars"
	grep -q $'^slow\t1\tbar s-timed_out\tslow (attempt 1) | exec sleep 5 | timed out after 300ms | ran ' "$T/bars"
	# the chain that ended the run is the critical path
	for t in fetch build test; do
		grep -q $'^'$t$'\t1\tbar s-succeeded critical\t'$t' (attempt 1) | sleep 0.[0-9] | succeeded | ran ' "$T/bars"
	done
	[ "$(grep -c critical "$T/bars")" -eq 3 ]
}

@test "an attempt that alloter terminated is coloured as terminated" {
	run alloter -q -k --timeline "$T/t.html" -- 'sleep 0.2; exit 1' "$SLEEP 30"
	[ "$status" -eq 1 ]
	bars "$T/t.html" >"$T/bars"
	cat "$T/bars"
	grep -q $'^1\t1\tbar s-failed\t' "$T/bars"
	grep -q $'^2\t1\tbar s-terminated\t2 (attempt 1) | '"$SLEEP"' 30 | terminated: ' "$T/bars"
	[ "$(grep -c critical "$T/bars")" -eq 0 ]
	grep -qx $'summary\talloter: 2 tasks: 0 succeeded, 1 failed, 1 terminated, 0 skipped in [0-9.]*s' "$T/bars"
	# and so it is in a page drawn from the report
	run alloter -q -k --report "$T/r.json" -- 'sleep 0.2; exit 1' "$SLEEP 30"
	alloter --timeline-from "$T/r.json" "$T/from.html"
	bars "$T/from.html" >"$T/bars"
	cat "$T/bars"
	grep -q $'^2\t1\tbar s-terminated\t' "$T/bars"
	grep -qx $'summary\talloter: 2 tasks: 0 succeeded, 1 failed, 1 terminated, 0 skipped in [0-9.]*s' "$T/bars"
}

@test "the page needs nothing from the network or any other file" {
	pipeline
	run grep -Eio '(src|href|xlink:href)=|@import|url\(|<link|<iframe|<img|fetch\(|XMLHttpRequest' "$T/t.html"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(grep -c '<script' "$T/t.html")" -eq 2 ]
}

@test "the screenshot is a picture of the chart at the size asked for" {
	pipeline
	chrome --window-size=1000,500 --screenshot="$T/t.png" "file://$T/t.html" >/dev/null
	run python3 - "$T/t.png" <<-'PY'
	import struct, sys, zlib
	data = open(sys.argv[1], "rb").read()
	assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
	pos, idat, w = 8, b"", None
	while pos < len(data):
	    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
	    body = data[pos + 8:pos + 8 + n]
	    if kind == b"IHDR":
	        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
	    elif kind == b"IDAT":
	        idat += body
	    pos += 12 + n
	print("size %dx%d" % (w, h))
	assert depth == 8 and ctype in (2, 6), (depth, ctype)
	bpp = 3 if ctype == 2 else 4
	raw, stride, prev, rows = zlib.decompress(idat), w * bpp, None, []
	for y in range(h):
	    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
	    for i in range(stride):
	        a = line[i - bpp] if i >= bpp else 0
	        b = prev[i] if prev else 0
	        c = prev[i - bpp] if prev and i >= bpp else 0
	        if f == 1: line[i] = (line[i] + a) & 255
	        elif f == 2: line[i] = (line[i] + b) & 255
	        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
	        elif f == 4:
	            p = a + b - c
	            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
	            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
	    rows.append(line)
	    prev = line
	colours = {}
	for line in rows:
	    for x in range(0, stride, bpp):
	        px = bytes(line[x:x + 3])
	        colours[px] = colours.get(px, 0) + 1
	# the bars' colours, as the page's style gives them, cover pixels
	for name, rgb in [("succeeded", "3a9d4f"), ("failed", "d73a32"),
	                  ("timed_out", "ef8c00"), ("retried", "f4c20d")]:
	    n = colours.get(bytes.fromhex(rgb), 0)
	    print(name, n)
	    assert n > 100, name + " is not in the picture"
	white = colours.get(b"\xff\xff\xff", 0)
	assert white < w * h * 0.97, "blank"
	PY
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "size 1000x500" ]]
}

@test "--timeline-from draws a report written earlier, a bar per task that ran" {
	pipeline
	run alloter --timeline-from "$T/r.json" "$T/from.html"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	bars "$T/from.html" >"$T/bars"
	cat "$T/bars"
	# the report has each task's last attempt
	[ "$(grep -c $'\tbar ' "$T/bars")" -eq 7 ]
	grep -qx $'summary\talloter: 7 tasks: 3 succeeded, 4 failed, 0 skipped (8 attempts) in [0-9.]*s' "$T/bars"
	grep -q $'^flaky\t2\tbar s-failed\tflaky (attempt 2) | sleep 0.1; exit 4 | failed: exit status 4 | ran ' "$T/bars"
	grep -q $'^crash\t1\tbar s-crashed\tcrash (attempt 1) | kill -SEGV $$ | crashed: killed by SIGSEGV | ran ' "$T/bars"
	grep -q $'^slow\t1\tbar s-timed_out\t' "$T/bars"
	[ "$(grep -c $'\tbar s-succeeded\t' "$T/bars")" -eq 3 ]
	# --timeline names the page just as well
	run alloter --timeline-from "$T/r.json" --timeline "$T/from2.html"
	[ "$status" -eq 0 ]
	cmp "$T/from.html" "$T/from2.html"
}

@test "--timeline-from puts each host's tasks on rows of their own" {
	# A real report, its tasks moved to two hosts: a and b overlap on
	# build1, c runs alone on build2.
	alloter -q --report "$T/here.json" -- true true true
	jq '.tasks |= map(.start = (if .name == "2" then 100.1 else 100.0 end)
		| .duration_ms = 500
		| .host = (if .name == "3" then "build2" else "build1" end))
		| .run.start = 100.0 | .run.wall_ms = 1000' "$T/here.json" >"$T/r.json"
	alloter --timeline-from "$T/r.json" "$T/h.html"
	chrome --dump-dom "file://$T/h.html" >"$T/dom.html"
	grep -o '<text[^>]*class="row-label"[^>]*>[^<]*' "$T/dom.html" | sed 's/.*>//' >"$T/rows"
	printf '%s\n' 'build1 lane 1' 'build1 lane 2' 'build2 lane 1' | diff - "$T/rows"
}

@test "a name or command with HTML in it stays text, and cannot end the page's script" {
	run alloter -q --timeline "$T/t.html" -- 'echo "</script><b>x</b>" >/dev/null' 'true # <!-- a'
	[ "$status" -eq 0 ]
	bars "$T/t.html" >"$T/bars"
	cat "$T/bars"
	grep -qF $'1\t1\tbar s-succeeded\t1 (attempt 1) | echo "</script><b>x</b>" >/dev/null | succeeded | ran ' "$T/bars"
	grep -qF $'2\t1\tbar s-succeeded\t2 (attempt 1) | true # <!-- a | succeeded | ran ' "$T/bars"
	run grep -c '</script>' "$T/t.html"
	[ "$output" -eq 2 ]
}

@test "--timeline-from refuses what is not a JSON report, and wants one page" {
	echo 'tasks: []' >"$T/r.yaml"
	run alloter --timeline-from "$T/r.yaml" "$T/x.html"
	[ "$status" -eq 2 ]
	[ "$output" = "alloter: --timeline-from '$T/r.yaml': not a JSON report" ]
	[ ! -e "$T/x.html" ]
	run alloter --timeline-from "$T/none.json" "$T/x.html"
	[ "$status" -eq 2 ]
	[[ $output == *"No such file or directory" ]]
	run alloter --timeline-from "$T/r.yaml"
	[ "$status" -eq 2 ]
	[[ $output == "alloter: --timeline-from $T/r.yaml: takes the page's file (one argument, or --timeline FILE) and nothing to run"* ]]
	run alloter --timeline-from "$T/r.yaml" a.html b.html
	[ "$status" -eq 2 ]
}

@test "a page that cannot be written is refused before anything runs" {
	run alloter --timeline "$T/no/such/dir/t.html" "touch $T/ran"
	[ "$status" -eq 2 ]
	[ "$output" = "alloter: --timeline '$T/no/such/dir/t.html': No such file or directory" ]
	[ ! -e "$T/ran" ]
}

@test "a page of 10,000 attempts is at most 5 MB and renders in under 2 s" {
	seq 10000 | sed 's/.*/true/' >"$T/cmds"
	run alloter -q -j 8 --timeline "$T/big.html" <"$T/cmds"
	[ "$status" -eq 0 ]
	size=$(stat -c %s "$T/big.html")
	echo "size: $size bytes"
	[ "$size" -le $((5 * 1024 * 1024)) ]
	timed_run chrome --dump-dom "file://$T/big.html"
	[ "$status" -eq 0 ]
	body=$(grep -o '<body[^>]*>' <<<"$output")
	echo "$body; chromium took $elapsed_ms ms in all"
	[[ $body == *'data-bars="10000"'* ]]
	ms=$(sed -E 's/.*data-render-ms="([0-9]+)".*/\1/' <<<"$body")
	[ "$ms" -lt 2000 ]
	[ "$(grep -o 'class="bar s-succeeded"' <<<"$output" | wc -l)" -eq 10000 ]
}

@test "--timeline writes to a pipe too, such as /dev/stdout" {
	run --separate-stderr alloter -q --timeline /dev/stdout 'echo task-output'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = task-output ]
	[ "$(grep -c 'id="alloter-data"' <<<"$output")" -eq 1 ]
	[ "${lines[-1]}" = '</html>' ]
}
