#!/usr/bin/env bats
# --pipe: standard input cut into blocks at record ends, one block to each
# task's stdin, no byte lost or twice, memory bounded by limit x block.

bats_require_minimum_version 1.5.0
load helpers

@test "--pipe: the blocks the tasks saw, in order, are the input, byte for byte" {
	seq 1 300000 >"$T/in"
	alloter -q -j 4 --pipe --block 100K "cat >$T/part.\$ALLOTER_TASK_INDEX" <"$T/in"
	n=$(ls "$T"/part.* | wc -l)
	[ "$n" -gt 10 ]
	for i in $(seq "$n"); do cat "$T/part.$i"; done | cmp - "$T/in"
	# every block is cut at a record end, and none is past the size but
	# for its last record
	for i in $(seq "$n"); do
		[ "$(tail -c 1 "$T/part.$i" | od -An -c | tr -d ' ')" = '\n' ]
		[ "$(stat -c %s "$T/part.$i")" -le 102400 ]
	done
}

@test "--pipe: cat big.log | alloter --pipe -j 4 'grep -c ERROR' counts every match" {
	for i in $(seq 50000); do echo "line $i $([ $((i % 7)) -eq 0 ] && echo ERROR)"; done >"$T/big.log"
	run --separate-stderr bash -c 'cat "$1" | "$ALLOTER" -q --pipe --block 64K -j 4 "grep -c ERROR"' _ "$T/big.log"
	[ "$status" -eq 0 ]
	[ "$(awk '{ s += $1 } END { print s }' <<<"$output")" -eq "$(grep -c ERROR "$T/big.log")" ]
}

@test "--pipe: a record longer than a block stays whole; the last block needs no record end" {
	{ head -c 50000 /dev/zero | tr '\0' a; echo; printf 'tail'; } >"$T/in"
	alloter -q -j 1 --pipe --block 1K "cat >$T/part.\$ALLOTER_TASK_INDEX" <"$T/in"
	[ "$(stat -c %s "$T/part.1")" -eq 50001 ]
	[ "$(cat "$T/part.2")" = tail ]
	cat "$T/part.1" "$T/part.2" | cmp - "$T/in"
}

@test "--pipe --recend and -0 say where records end" {
	printf 'a;b;c;d;' >"$T/in"
	alloter -q -j 1 --pipe --block 4 --recend ';' "cat >$T/r.\$ALLOTER_TASK_INDEX" <"$T/in"
	[ "$(cat "$T/r.1")" = 'a;b;' ]
	[ "$(cat "$T/r.2")" = 'c;d;' ]
	printf 'x\ny\0z\0' >"$T/in0"
	alloter -q -j 1 --pipe -0 --block 2 "cat >$T/z.\$ALLOTER_TASK_INDEX" <"$T/in0"
	printf 'x\ny\0' | cmp - "$T/z.1"
	printf 'z\0' | cmp - "$T/z.2"
}

@test "--pipe: memory stays about limit x block, and a slow task holds the producer back" {
	# 8 and 64 MiB through tasks that read slowly: alloter must not
	# buffer the input, so its peak is the same for both
	for mb in 8 64; do
		head -c $((mb << 20)) /dev/zero | tr '\0' x | fold -w 99 >"$T/in.$mb"
		cat "$T/in.$mb" | /usr/bin/time -f '%M' -o "$T/rss.$mb" "$ALLOTER" -q -j 2 --pipe --block 1M "sleep 0.05; wc -c >/dev/null"
	done
	small=$(tail -n 1 "$T/rss.8") big=$(tail -n 1 "$T/rss.64")
	echo "peak RSS: $small KB for 8 MiB, $big KB for 64 MiB"
	# AddressSanitizer (make check) keeps freed memory in quarantine, so
	# its peak grows with every allocation made: no bound to check there.
	[ -n "${ASAN_OPTIONS:-}" ] && return 0
	[ "$big" -lt $((small * 3 / 2 + 2048)) ]
	[ "$big" -lt 65536 ]
}

@test "--pipe: bad uses are exit 2, nothing run" {
	run --separate-stderr alloter --block 1M "touch $T/ran" </dev/null
	[ "$status" -eq 2 ]
	[[ $stderr == *"only with --pipe"* ]]
	run --separate-stderr alloter --pipe </dev/null
	[ "$status" -eq 2 ]
	run --separate-stderr alloter --pipe --block 0 "touch $T/ran" </dev/null
	[ "$status" -eq 2 ]
	run --separate-stderr alloter --pipe -S 127.0.0.9 "touch $T/ran" </dev/null
	[ "$status" -eq 2 ]
	[[ $stderr == *"--pipe: cannot be combined with remote hosts"* ]]
	run --separate-stderr alloter --pipe "touch $T/ran" ::: a
	[ "$status" -eq 2 ]
	[ ! -e "$T/ran" ]
}
