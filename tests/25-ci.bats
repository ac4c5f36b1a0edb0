#!/usr/bin/env bats
# --ci github|gitlab|none|auto: folded blocks, annotations, the failed
# tasks' names at the end of the log.

bats_require_minimum_version 1.5.0
load helpers

@test "--ci github folds each succeeded task's block and annotates each failure" {
	run --separate-stderr alloter -j 1 --ci github 'echo one' 'echo bad; exit 3' 'echo two'
	[ "$status" -eq 1 ]
	[ "$output" = "$(printf '%s\n' '::group::1 (exit status 0)' one '::endgroup::' \
		'::error title=alloter: 2::exit status 3' bad '::group::3 (exit status 0)' two '::endgroup::')" ]
}

@test "--ci auto is github under GITHUB_ACTIONS=true, gitlab under GITLAB_CI=true, else none" {
	GITHUB_ACTIONS=true run --separate-stderr alloter 'echo one'
	[ "${lines[0]}" = '::group::1 (exit status 0)' ]
	GITLAB_CI=true run --separate-stderr alloter 'echo one'
	[[ ${lines[0]} == $'\e[0Ksection_start:'*$':1[collapsed=true]\r\e[0K1 (exit status 0)' ]]
	GITHUB_ACTIONS=true run --separate-stderr alloter --ci none 'echo one'
	[ "$output" = one ]
	run --separate-stderr env -u GITHUB_ACTIONS -u GITLAB_CI "$ALLOTER" 'echo one'
	[ "$output" = one ]
}

@test "--ci gitlab: collapsed sections for successes, open ones for failures" {
	run --separate-stderr alloter -j 1 --ci gitlab 'echo one' 'echo bad; exit 3'
	[ "$status" -eq 1 ]
	[[ ${lines[0]} =~ ^$'\e'\[0Ksection_start:[0-9]+:1\[collapsed=true\]$'\r\e'\[0K1\ \(exit\ status\ 0\)$ ]]
	[ "${lines[1]}" = one ]
	[[ ${lines[2]} =~ ^$'\e'\[0Ksection_end:[0-9]+:1$'\r\e'\[0K$ ]]
	[[ ${lines[3]} =~ collapsed=false ]]
	[[ ${lines[3]} == *"2 (exit status 3)" ]]
	[ "${lines[4]}" = bad ]
}

@test "--ci: the summary stays at the end, the failed tasks' names in the last 3 lines" {
	printf 'tasks:\n  - name: lint\n    run: exit 1\n  - name: unit\n    run: "true"\n  - name: docs\n    run: exit 2\n' >"$T/t.yaml"
	run alloter -j 1 --ci github -f "$T/t.yaml"
	[ "$status" -eq 1 ]
	last3=$(tail -n 3 <<<"$output")
	[[ $last3 == *lint* ]] && [[ $last3 == *docs* ]]
	[[ $(tail -n 1 <<<"$output") == "alloter: failed tasks: lint, docs" ]]
}

@test "--ci github escapes what a workflow command would misread" {
	printf 'tasks:\n  - name: "a:b,c%%d"\n    run: exit 1\n' >"$T/t.yaml"
	run --separate-stderr alloter --ci github -f "$T/t.yaml"
	[[ $output == *'::error title=alloter: a%3Ab%2Cc%25d::exit status 1'* ]]
}

@test "--ci with line output annotates failures and folds nothing" {
	run --separate-stderr alloter -j 1 --ci github -o line 'echo one' 'exit 1'
	[[ $output != *'::group::'* ]]
	[[ $output == *'::error title=alloter: 2::exit status 1'* ]]
}

@test "--ci: an unknown kind is a usage error" {
	run --separate-stderr alloter --ci jenkins "touch $T/ran"
	[ "$status" -eq 2 ]
	[[ $stderr == *"--ci: invalid value 'jenkins' (want auto, github, gitlab or none)"* ]]
	[ ! -e "$T/ran" ]
}
