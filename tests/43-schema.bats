#!/usr/bin/env bats
# tests/43-schema.bats - the report format is versioned and documented by
# docs/report.schema.json (JSON Schema draft 2020-12), which every report
# the suites write is checked against (validate_reports in helpers.bash).

bats_require_minimum_version 1.5.0
load helpers

SCHEMA="$BATS_TEST_DIRNAME/../docs/report.schema.json"
CHECK="$BATS_TEST_DIRNAME/check-reports.py"
MANPAGE="$BATS_TEST_DIRNAME/../man/alloter.1"

@test "the schema is a valid draft 2020-12 schema" {
	run /usr/bin/python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema", s["$schema"]
jsonschema.Draft202012Validator.check_schema(s)' "$SCHEMA"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a report says format 1, first" {
	alloter -q --report "$T/r.json" true
	[ "$(sed -n 2p "$T/r.json")" = '"format": 1,' ]
	[ "$(jq .format "$T/r.json")" = 1 ]
}

@test "reports of every kind of task conform to the schema" {
	cat >"$T/tasks.yaml" <<-'YAML'
	tasks:
	  ok: {run: "true"}
	  bad: {run: "exit 3"}
	  crash: {run: "kill -SEGV $$"}
	  slow: {run: "exec $SLEEP 30", timeout: 200ms}
	  cut: {run: "true", needs: [bad]}
	  retried: {run: "exit 1", retries: 1}
	YAML
	SLEEP=$SLEEP alloter -q -f "$T/tasks.yaml" --report "$T/r.json" || true
	[ "$(jq '.tasks | length' "$T/r.json")" -eq 6 ]
	jq -r '.tasks[].status' "$T/r.json" | sort -u >"$T/statuses"
	printf '%s\n' crashed failed skipped succeeded timed_out >"$T/want"
	cmp "$T/want" "$T/statuses"
	run "$CHECK" "$T"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# Breaks a real report in one way (a jq filter) and expects the check to
# fail, naming the place.
refused() { # refused FILTER WHERE
	alloter -q --report "$T/ok.json" true 'exit 2' || true
	mkdir "$T/bad"
	jq "$1" "$T/ok.json" >"$T/bad/r.json"
	run "$CHECK" "$T/bad"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"$T/bad/r.json: $2: "* ]]
	rm -r "$T/bad"
}

@test "the check refuses a report without the format, or of another format" {
	refused 'del(.format)' '(top)'
	refused '.format = 2' format
}

@test "the check refuses an undocumented key, a wrong type and an unknown status" {
	refused '.tasks[0].extra = 1' 'tasks/0'
	refused '.run.options.limit = "4"' 'run/options/limit'
	refused '.tasks[0].status = "done"' 'tasks/0/status'
	refused '.tasks[0].exit_code = 0 | .tasks[0].signal = "SIGKILL"' 'tasks/0'
}

@test "the check refuses a report cut short" {
	printf '{\n"format": 1,\n"tasks": [' >"$T/cut.json"
	run "$CHECK" "$T"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"cut.json: not valid JSON"* ]]
	rm "$T/cut.json"
}

@test "every key of the schema is documented in the man page's JSON REPORT" {
	local keys k section
	keys=$(jq -r '[.properties, ."$defs".task.properties, ."$defs".run.properties,
		."$defs".run.properties.options.properties] | map(keys[]) | unique[]' "$SCHEMA")
	section=$(awk '/^\.Sh JSON REPORT/ { on = 1; next } /^\.Sh / { on = 0 } on' "$MANPAGE")
	for k in $keys; do
		grep -qE "^\.(It )?Li $k( |$)" <<<"$section" || {
			echo "not in the man page: $k" >&2
			return 1
		}
	done
}
