#!/usr/bin/env bats
# One option mechanism (issue 10): each program's options come from one
# table, from which cli builds getopt_long's options, the usage synopsis
# and --help.  These tests hold --help, what getopt accepts and the
# manual page (SYNOPSIS and the option list) to the same options, and
# option errors to one form.
bats_require_minimum_version 1.5.0
load helper

PROGRAMS=(pgfetch dedup-merge jsonl-normalize schema-infer sqlite-load cdc-decode)

# The options of --help's list, one a line: "-k --key" or "--final".
help_list() {
	"$1" --help | sed -nE 's/^  (-[a-zA-Z]), (--[a-z0-9-]+).*/\1 \2/p; s/^      (--[a-z0-9-]+).*/\1/p' |
	    sort
}

# The options of the manual's list (the .It entries of DESCRIPTION), in
# the same form; an entry naming two options gives two lines.
man_list() {
	awk '/^\.Sh /{d = ($2 == "DESCRIPTION")} d && /^\.It Fl /' "$MAN/$1.1" |
	    sed -E 's/ Fl ([a-zA-Z]) , Fl (-[a-z0-9-]+)/ Fl \1\2/; s/ Ar [^F]*//g' |
	    grep -oE 'Fl -[a-z0-9-]+|Fl [a-zA-Z]-[-a-z0-9]+' |
	    sed -E 's/^Fl ([a-zA-Z])-(.*)/-\1 --\2/; s/^Fl -/--/' | sort
}

# The options a synopsis names: "-k", "--key", and "-h -q -V" for [-hqV].
synopsis_options() {
	grep -oE '(^|[[ |])--?[a-zA-Z0-9][a-zA-Z0-9-]*' |
	    sed -E 's/^[[ |]//' |
	    awk '/^--/ { print; next } length($0) > 2 {
		for (i = 2; i <= length($0); i++) print "-" substr($0, i, 1); next }
		{ print }' | sort -u
}

usage_synopsis() {
	"$1" --help | sed -n '1,/^$/p' | synopsis_options
}

man_synopsis() {
	awk '/^\.Sh /{s = ($2 == "SYNOPSIS")} s && !/^\.Sh/' "$MAN/$1.1" |
	    sed -E 's/^\./ /; s/Fl ([a-zA-Z]+)/-\1/g; s/Fl -/--/g; s/\.Op|\.Nm|Ar [a-z.]+|Cm|Ns|\|/ /g' |
	    synopsis_options
}

setup() {
	MAN=$BATS_TEST_DIRNAME/../man
	cd "$BATS_TEST_TMPDIR" || return 1
}

@test "--help and the manual's option list name the same options, in every program" {
	local p
	for p in "${PROGRAMS[@]}"; do
		diff <(help_list "$p") <(man_list "$p") ||
		    fail "$p: --help (<) and $p(1) (>) differ"
	done
}

@test "the usage synopsis and the manual's SYNOPSIS name the same options, in every program" {
	local p
	for p in "${PROGRAMS[@]}"; do
		[[ -n $(usage_synopsis "$p") ]] || fail "$p: no synopsis read"
		diff <(usage_synopsis "$p") <(man_synopsis "$p") ||
		    fail "$p: usage (<) and $p(1) SYNOPSIS (>) differ"
		# A group in the synopsis is named in both.
		diff <("$p" --help | sed -n '1,/^$/p' | grep -oE '\[[a-z]+ options\]') \
		    <(grep -oE '^\.Op Ar [a-z]+ options' "$MAN/$p.1" |
		    sed -E 's/^\.Op Ar (.*)/[\1]/') ||
		    fail "$p: groups of the synopsis differ"
	done
}

@test "every option --help lists is one getopt takes, with its argument" {
	local p opt short long arg n=0
	for p in "${PROGRAMS[@]}"; do
		while read -r short long arg; do
			[[ $short == --* ]] && { arg=$long; long=$short; short=; }
			for opt in $short $long; do
				# An argument, then --help: the option is known.
				if [[ -n $arg ]]; then
					run --separate-stderr "$p" "$opt" x --help
				else
					run --separate-stderr "$p" "$opt" --help
				fi
				[[ $stderr != *"unrecognized option"* &&
				    $stderr != *"invalid option"* &&
				    $stderr != *"requires an argument"* &&
				    $stderr != *"doesn't allow an argument"* ]] ||
				    fail "$p $opt: $stderr"
				(( status == 0 || status == 64 || status == 66 )) ||
				    fail "$p $opt: status $status"
				n=$((n + 1))
			done
		done < <("$p" --help | sed -nE \
		    's/^  (-[a-zA-Z]), (--[a-z0-9-]+)( [^ ]+)?.*/\1 \2 \3/p; s/^      (--[a-z0-9-]+)( [A-Za-z|:=,.[]+)?( .*)?$/\1 \2/p' |
		    sed -E 's/ +$//')
	done
	(( n > 100 )) || fail "only $n options tried"
}

# pgfetch copied the common options by hand, and its copy drifted: -q
# said "no progress or notices", leaving out the summary it also silences.
@test "the common options read the same in every program's --help" {
	local p want
	want=$(sqlite-load --help | grep -E '^  (-q|    --(on-error|stats|progress|max-line-bytes)|-h|-V)' )
	[[ $want == *"--quiet"*"summary"* ]] || fail "no -q line: $want"
	for p in "${PROGRAMS[@]}"; do
		assert_equal "$("$p" --help | grep -E '^  (-q|    --(on-error|stats|progress|max-line-bytes)|-h|-V)')" "$want"
	done
}

@test "pgfetch --stats s --records-jq . FILE: a usage error, no --stats, nothing on stdout" {
	printf '{"a":1}\n' > f.jsonl
	run -64 --separate-stderr pgfetch --stats s --records-jq . f.jsonl
	assert_output ""
	assert_stderr "pgfetch: --records-jq applies to the pages of an API, and f.jsonl is a file"
	[[ ! -e s ]] || fail "--stats written: $(cat s)"
}

# A bad number names the option; pgfetch named the value for six of its
# options ("pgfetch: x: 'x': not a number").
@test "a bad number names its option, in every program" {
	local opt
	for opt in --start --limit --max-pages --retries --timeout --connect-timeout \
	    --max-records --parallel; do
		run -64 --separate-stderr pgfetch "$opt" x f.jsonl
		assert_output ""
		[[ ${stderr_lines[0]} == "pgfetch: $opt: 'x': not a number" ]] ||
		    fail "$opt: ${stderr_lines[0]}"
		[[ ${stderr_lines[1]} == "usage: pgfetch "* ]] || fail "$opt: no usage"
	done
	run -64 --separate-stderr sqlite-load db --busy-timeout x
	[[ ${stderr_lines[0]} == "sqlite-load: --busy-timeout: 'x': not a number" ]] ||
	    fail "${stderr_lines[0]}"
	run -64 --separate-stderr jsonl-normalize --max-nesting x
	[[ ${stderr_lines[0]} == "jsonl-normalize: --max-nesting: 'x': not a number" ]] ||
	    fail "${stderr_lines[0]}"
	run -64 --separate-stderr dedup-merge -k id --cursor c --boundary-max x
	[[ ${stderr_lines[0]} == "dedup-merge: --boundary-max: 'x': not a number" ]] ||
	    fail "${stderr_lines[0]}"
	# --max-record-bytes speaks as the option it stands for.
	run -64 --separate-stderr jsonl-normalize --max-record-bytes x
	[[ ${stderr_lines[0]} == "jsonl-normalize: --max-line-bytes: 'x': not a size" ]] ||
	    fail "${stderr_lines[0]}"
}

# One enum parser: the value and the choices named, exit 64 with usage.
# --paginate named no choices, --on-missing-cursor not the value.
@test "a bad enumerated value names the value and the choices, in every program" {
	local row p opt want
	while IFS='|' read -r p opt want; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr $p "$opt" bogus
		assert_output ""
		[[ ${stderr_lines[0]} == "${p%% *}: ${opt/#-m/--mode}: 'bogus': expected $want" ]] ||
		    fail "$p $opt: ${stderr_lines[0]}"
		[[ ${stderr_lines[1]} == "usage: ${p%% *} "* ]] || fail "$p $opt: no usage"
	done <<-EOF
	sqlite-load db|-m|append, replace, merge or scd2
	sqlite-load db|--on-type-conflict|variant or fail
	schema-infer|--on-type-conflict|variant or fail
	jsonl-normalize|--naming|snake or keep
	pgfetch|--format|jsonl, json, csv or auto
	pgfetch|--paginate|page, offset, cursor, next, link, none or auto
	dedup-merge -k id --cursor c|--on-missing-cursor|fail, include or exclude
	EOF
}

# One real-number parser: finite, in range, the range said.  NaN passed
# --backoff-base's check before.
@test "a bad real number names its option and range; NaN and infinity are not numbers" {
	local row p opt val want
	while IFS='|' read -r p opt val want; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr $p "$opt" "$val"
		assert_output ""
		[[ ${stderr_lines[0]} == "${p%% *}: $opt: expected a number, $want" ]] ||
		    fail "$p $opt $val: ${stderr_lines[0]}"
	done <<-EOF
	pgfetch f.jsonl|--backoff-base|nan|0 to 60
	pgfetch f.jsonl|--backoff-base|99|0 to 60
	pgfetch f.jsonl|--backoff-base|-1|0 to 60
	pgfetch f.jsonl|--rate|0|more than 0 and at most 1000000
	pgfetch f.jsonl|--rate|inf|more than 0 and at most 1000000
	pgfetch f.jsonl|--rate|2x|more than 0 and at most 1000000
	dedup-merge -k id --cursor c|--lag|-1|0 or more
	dedup-merge -k id --cursor c|--lag|nan|0 or more
	EOF
	printf '{"a":1}\n' > f.jsonl
	run -0 --separate-stderr pgfetch --backoff-base 0.25 --rate 0.5 f.jsonl
	assert_output '{"a":1}'
}

@test "an unknown option or a missing argument: getopt's message, the usage, 64, in every program" {
	local p
	for p in "${PROGRAMS[@]}"; do
		run -64 --separate-stderr "$p" --no-such-option
		assert_output ""
		[[ ${stderr_lines[0]} == *"unrecognized option '--no-such-option'" ]] ||
		    fail "$p: ${stderr_lines[0]}"
		[[ ${stderr_lines[1]} == "usage: $p "* ]] || fail "$p: ${stderr_lines[1]}"
		run -64 --separate-stderr "$p" --stats
		[[ ${stderr_lines[0]} == *"option '--stats' requires an argument" ]] ||
		    fail "$p: ${stderr_lines[0]}"
	done
}
