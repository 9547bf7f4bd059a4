bats_require_minimum_version 1.5.0
# The hash tables (lib/keytab.c) place keys by a hash keyed with a seed
# drawn at random by each process: no output may depend on where a key
# sits.  Each program runs twice on inputs with many keys, names and
# tables (two seeds), and must write the same bytes both times.

load helper

setup() {
	sluice_setup dedup-merge jsonl-normalize schema-infer sqlite-load
}

# gen_versions N FILE: N records over three streams, 12000 keys (each in
# one stream); every other one is followed at once by a version with a
# longer line (copied anew) or a shorter one (kept in place).
gen_versions() {
	awk -v n="$1" 'function rec(i, k, len) {
		printf "{\"type\":\"RECORD\",\"stream\":\"s%d\",\"record\":{\"id\":%d,\"v\":%d,\"pad\":\"%0*d\"}}\n", i % 3, k, (i * 31 + len) % 977, len, i
	}
	BEGIN {
		for (i = 1; i <= n; i++) {
			k = (i * 7) % 12000
			rec(i, k, 50)
			if (i % 4 == 0)
				rec(i, k, 300)
			else if (i % 4 == 1)
				rec(i, k, 10)
		}
	}' > "$2"
}

# gen_wide N FILE: N records with many member names, nested objects and
# arrays: many columns and child tables.
gen_wide() {
	awk -v n="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"c%d\":%d,\"z%d\":\"x%d\",\"nest\":{\"k%d\":%d},\"arr%d\":[{\"a%d\":1,\"b\":%d}]}\n", i % 150, i % 40, i, i % 33, i, i % 17, i, i % 5, i % 7, i
	}' > "$2"
}

@test "dedup-merge writes the same bytes on every run, in memory or spilled" {
	gen_versions 24000 in.jsonl
	local rule
	for rule in "" --first "--latest-by v"; do
		# shellcheck disable=SC2086
		{
			dedup-merge -k id $rule in.jsonl > a.out
			dedup-merge -k id $rule in.jsonl > b.out
			dedup-merge -k id $rule --memory 1M --stats a.json in.jsonl > c.out
			dedup-merge -k id $rule --memory 1M --stats b.json in.jsonl > d.out
		} || fail "dedup-merge failed ($rule)"
		[[ $(wc -l < a.out) -eq 12000 ]] || fail "$(wc -l < a.out) rows ($rule)"
		cmp a.out b.out || fail "two runs differ ($rule)"
		cmp a.out c.out || fail "spilled differs from in memory ($rule)"
		cmp c.out d.out || fail "two spilled runs differ ($rule)"
		# The same spills too: the table's bytes are counted alike.
		run -0 jq -r .spilled_bytes a.json
		[[ $output -gt 0 ]] || fail "nothing spilled ($rule)"
		assert_equal "$(jq -c 'del(.seconds)' a.json)" "$(jq -c 'del(.seconds)' b.json)"
	done
}

@test "jsonl-normalize and schema-infer write the same bytes on every run" {
	gen_wide 2000 in.jsonl
	local r
	for r in 1 2; do
		SLUICE_LOAD_ID=L jsonl-normalize -q -t t -k id in.jsonl > n$r.jsonl ||
		    fail "jsonl-normalize failed"
		SLUICE_LOAD_ID=L schema-infer -q < n$r.jsonl > s$r.jsonl ||
		    fail "schema-infer failed"
	done
	[[ $(grep -c '"type":"SCHEMA"' s1.jsonl) -ge 6 ]] || fail "too few tables"
	cmp n1.jsonl n2.jsonl
	cmp s1.jsonl s2.jsonl
}

@test "sqlite-load leaves the same database on every run (but its clock)" {
	gen_wide 2000 in.jsonl
	SLUICE_LOAD_ID=L jsonl-normalize -q -t t -k id in.jsonl |
	    SLUICE_LOAD_ID=L schema-infer -q > s.jsonl || fail "pipeline failed"
	local r
	for r in 1 2; do
		SLUICE_LOAD_ID=L1 sqlite-load -q -m merge db$r < s.jsonl > /dev/null ||
		    fail "sqlite-load failed"
		SLUICE_LOAD_ID=L2 sqlite-load -q -m merge db$r < s.jsonl > /dev/null ||
		    fail "sqlite-load failed (again)"
		sqlite3 db$r .dump |
		    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' > d$r.sql
	done
	[[ $(grep -c '^CREATE TABLE' d1.sql) -ge 6 ]] || fail "too few tables"
	cmp d1.sql d2.sql
}
