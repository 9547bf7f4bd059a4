bats_require_minimum_version 1.5.0
# Persisted formats (sluice(5), PERSISTED IDENTIFIERS; issue 10, section 5):
# the _sluice_id of root and child rows, _sluice_row_hash of SCD2 rows and
# the schema version hashes are stored in databases and matched by later
# loads.  Their values on these fixed inputs were taken once from the build
# and must never change: a change re-versions every SCD2 row and breaks
# merges into existing databases.  The last tests recompute every value
# from the recipe in sluice(5) with an independent implementation.
# hash64 and hash128 themselves: tests/unit/test_formats.c.

load helper

setup() {
	sluice_setup jsonl-normalize sqlite-load
	ID_RE='^[A-Za-z0-9_-]{22}$'
}

# ids OPTION...: jsonl-normalize --load-id L OPTION... on stdin, which must
# exit 0 with nothing on stderr; prints "stream idx parent root id" for each
# RECORD (idx, parent and root are "-" for a root row).
ids() {
	local st=0
	jsonl-normalize --load-id L "$@" > out 2> err || st=$?
	[[ $st -eq 0 ]] || fail "jsonl-normalize exited $st: $(cat err)"
	[[ ! -s err ]] || fail "jsonl-normalize wrote to stderr: $(cat err)"
	jq -r 'select(.type == "RECORD") | [.stream,
	    (.record._sluice_list_idx // "-" | tostring),
	    .record._sluice_parent_id // "-", .record._sluice_root_id // "-",
	    .record._sluice_id] | join(" ")' out
}

# scd2 DB LINE...: load the LINEs into table t of DB in scd2 mode, key id.
scd2() {
	local db=$1
	shift
	printf '%s\n' "$@" | sqlite-load "$db" -t t -k id -m scd2 -q ||
	    fail "sqlite-load exited $?"
}

@test "root _sluice_id with -k: fixed for a key value, whatever the stream, load, other columns or member order" {
	printf '%s\n' '{"id":1,"name":"a"}' '{"name":"b","id":1,"x":[]}' |
	    ids -t orders -k id > got
	printf '%s\n' '{"id":1}' | ids -t other -k id --load-id L2 >> got
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    'orders - - - rceiKuDo_03yF05ivHEqJA' \
	    'orders - - - rceiKuDo_03yF05ivHEqJA' \
	    'other - - - rceiKuDo_03yF05ivHEqJA')"
}

@test "root _sluice_id with -k: a key value's type and text as it arrived make the id" {
	printf '%s\n' '{"id":"1"}' '{"id":1.0}' '{"id":true}' '{"id":-0}' |
	    ids -t t -k id > got
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    't - - - mNW9n6R3SAr0D4BGHppFHw' \
	    't - - - TWimouJg1Mvm2XNc3drqjA' \
	    't - - - nJBE7cRPrWaoLGdmZ1v5qw' \
	    't - - - Q8uHgESqxZLiQf_Tc6vlKg')"
}

@test "root _sluice_id with a composite key: the values in the order of -k" {
	printf '%s\n' '{"a":1,"b":"x"}' '{"b":"x","c":2,"a":1}' |
	    ids -t t -k a,b > got
	printf '%s\n' '{"a":1,"b":"x"}' | ids -t t -k b,a >> got
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    't - - - vqnrqLgC63Y_4Vcskk4-LA' \
	    't - - - vqnrqLgC63Y_4Vcskk4-LA' \
	    't - - - 3O5HCw0ay56n8StaVFxLgg')"
}

@test "root _sluice_id of a flattened key column and of a hashed key" {
	printf '%s\n' '{"m":{"id":5},"x":1}' | ids -t t -k m__id > got
	export SALT=pepper:Zx9
	printf '%s\n' '{"email":"ana@example.com"}' |
	    ids -t t -k email --hash email --salt-env SALT >> got
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    't - - - YeOHwT98_SEc2s8utCpdvQ' \
	    't - - - BmP6eTGIsj6gFQhBnfhhng')"
	# The hashed key's id is that of its token, a string.
	assert_equal "$(jq -r 'select(.type == "RECORD") | .record.email' out)" \
	    9ebe45ceef3e9518714497670288beff30c2ad3c49082dec9278c8be3a5cae02
}

@test "root _sluice_id: escaped and literal UTF-8 spellings of one key give one id" {
	# The same string twice: escapes (a surrogate pair, \u00e9, \t, \u001f,
	# \u007f, \\, \/) and then the bytes themselves.
	printf '%s\n' '{"k":"\ud83d\ude00 \u00e9\t\u001f\u007f\\\/"}' \
	    "$(printf '{"k":"\xf0\x9f\x98\x80 \xc3\xa9\\t\\u001f\x7f\\\\/"}')" |
	    ids -t t -k k > got
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    't - - - njpepej2oNhiqMo6toQQtQ' \
	    't - - - njpepej2oNhiqMo6toQQtQ')"
}

@test "child _sluice_id at two levels and of an array of scalars" {
	printf '%s\n' '{"id":1,"name":"a","items":[{"sku":"x","parts":[{"p":1},{"p":2}]},{"sku":"y"}],"tags":["red","blue"]}' |
	    ids -t orders -k id > got
	R=rceiKuDo_03yF05ivHEqJA
	I0=bnvxeWQzcfTfSI3wrBZ5Hw
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    "orders - - - $R" \
	    "orders__items 0 $R $R $I0" \
	    "orders__items__parts 0 $I0 $R q0DtnsTdDpbOdpILKS1kCg" \
	    "orders__items__parts 1 $I0 $R k2VhdpJjLgStVxtoq4fRwQ" \
	    "orders__items 1 $R $R 8bvmK--wwAds46r24drydA" \
	    "orders__tags 0 $R $R IB6vct_J5221nxZS5uRg3g" \
	    "orders__tags 1 $R $R KzpN8kPfVsi8sfQV_uZOiQ")"
}

@test "child _sluice_id of a list in a list and of non-ASCII table names" {
	printf '%s\n' '{"id":1,"l":[[1,2],[3]]}' | ids -t t -k id > got
	printf '%s\n' '{"id":1,"Größe":[{"x":1}]}' |
	    ids -t Bücher -k id --naming keep >> got
	R=rceiKuDo_03yF05ivHEqJA
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    "t - - - $R" \
	    "t__l 0 $R $R hsilqWRtP90XAaOAmexCPg" \
	    "t__l__list 0 hsilqWRtP90XAaOAmexCPg $R IC4BWHA01xtXRPgmnGK3ug" \
	    "t__l__list 1 hsilqWRtP90XAaOAmexCPg $R PucsK6EjEdrLK7cAHr4eDw" \
	    "t__l 1 $R $R BHWc0bzXs6HadbL73yuAaw" \
	    "t__l__list 0 BHWc0bzXs6HadbL73yuAaw $R gVJNZckZDhH_Y0KcPuTm0w" \
	    "Bücher - - - $R" \
	    "Bücher__Größe 0 $R $R exlw7vGXAdbp3fyVbxfxxg")"
}

@test "root _sluice_id without -k: random, 22 base64url characters, new on every run" {
	printf '%s\n' '{"a":1}' '{"a":1}' > in.jsonl
	ids -t t < in.jsonl > one
	ids -t t < in.jsonl > two
	cat one two > all
	assert_equal "$(awk '{ print $5 }' all | grep -cE "$ID_RE")" 4
	assert_equal "$(awk '{ print $5 }' all | sort -u | wc -l)" 4
}

@test "_sluice_row_hash of SCD2 rows: fixed for the data, whatever the member order, nulls or _sluice_ members" {
	scd2 db '{"id":1,"name":"caf\u00e9","tags":{"z":1,"a":[true,null]},"gone":null,"_sluice_load_id":"L"}'
	scd2 db "$(printf '{"tags":{"a":[true,null],"z":1},"name":"caf\xc3\xa9","id":1,"_sluice_id":"x"}')"
	scd2 db '{"id":2,"note":"tab\there \"q\" \u0001 \/ \ud83d\ude00","B":1,"a":2.50,"list":[{"y":null,"x":"1"}],"_sluice_id":"zzz"}'
	assert_equal "$(sql db 'SELECT id, _sluice_row_hash FROM t ORDER BY rowid')" \
	    "$(printf '%s\n' \
	    '1|782d94b9e7d74f2858bee453031d2a88' \
	    '2|6e3ca5cc8a939a80c100532d02977952')"
}

@test "schema version hashes: one per table, and the load's combination of them" {
	cat > in.jsonl <<'EOF'
{"type":"SCHEMA","stream":"issues","schema":{"type":"object","properties":{"id":{"type":["integer"]},"title":{"type":["null","string"]},"closed_at":{"type":["null","string"],"format":"date-time"}}},"key_properties":["id"]}
{"type":"RECORD","stream":"issues","record":{"id":1,"title":"Timestamp type","closed_at":"2019-10-23T13:05:30Z"}}
{"type":"SCHEMA","stream":"labels","schema":{"type":"object","properties":{"name":{"type":["string"]},"score":{"type":["number"]},"meta":{"type":["object","array"]}}},"key_properties":["name"]}
{"type":"RECORD","stream":"labels","record":{"name":"bug","score":1.5,"meta":{"a":1}}}
EOF
	run -0 sqlite-load db -m merge --load-id L1 -q in.jsonl
	run -0 sqlite-load db -m merge --load-id L2 -q in.jsonl
	# A merged table holds the hash of each row (_sluice_row_hash, since
	# merges skip unchanged rows): part of its schema, so of its hash.
	assert_equal "$(sql db 'SELECT version_hash, table_name FROM _sluice_schemas ORDER BY rowid')" \
	    "$(printf '%s\n' 'e09a0b74105d6fcf|issues' 'bc0cfdd0c2685bca|labels')"
	assert_equal "$(sql db 'SELECT load_id, schema_version FROM _sluice_loads ORDER BY load_id')" \
	    "$(printf '%s\n' 'L1|eeb460debdb8e5db' 'L2|eeb460debdb8e5db')"
	# One table: its schema_version is its version hash.
	printf '%s\n' '{"id":1,"name":"caf\u00e9","tags":{"z":1,"a":[true,null]},"gone":null,"_sluice_load_id":"L"}' |
	    sqlite-load db2 -t t -k id -m scd2 --load-id L1 -q ||
	    fail "sqlite-load exited $?"
	assert_equal "$(sql db2 'SELECT version_hash, table_name FROM _sluice_schemas')" \
	    '5dc40862141f778c|t'
	assert_equal "$(sql db2 'SELECT schema_version FROM _sluice_loads')" \
	    5dc40862141f778c
}

@test "the examples of sluice(5) PERSISTED IDENTIFIERS hold, and the page quotes these values" {
	MAN="$BATS_TEST_DIRNAME/../man/sluice.5"
	printf '%s\n' '{"id":1,"items":[{"parts":[{"p":1},{"p":2}]}]}' |
	    ids -t orders -k id > got
	printf '%s\n' '{"a":1,"b":"x"}' | ids -t t -k a,b >> got
	R=rceiKuDo_03yF05ivHEqJA
	I0=bnvxeWQzcfTfSI3wrBZ5Hw
	assert_equal "$(cat got)" "$(printf '%s\n' \
	    "orders - - - $R" \
	    "orders__items 0 $R $R $I0" \
	    "orders__items__parts 0 $I0 $R q0DtnsTdDpbOdpILKS1kCg" \
	    "orders__items__parts 1 $I0 $R k2VhdpJjLgStVxtoq4fRwQ" \
	    't - - - vqnrqLgC63Y_4Vcskk4-LA')"
	scd2 db '{"id":1,"name":"caf\u00e9","tags":{"z":1,"a":[true,null]},"gone":null,"_sluice_load_id":"L"}'
	assert_equal "$(sql db 'SELECT _sluice_row_hash FROM t')" \
	    782d94b9e7d74f2858bee453031d2a88
	for v in $R $I0 k2VhdpJjLgStVxtoq4fRwQ vqnrqLgC63Y_4Vcskk4-LA \
	    782d94b9e7d74f2858bee453031d2a88 \
	    '{"id":1,"name":"caf\eu00e9","tags":{"z":1,"a":[true,null]},"gone":null,"_sluice_load_id":"L"}' \
	    '{"id":1,"items":[{"parts":[{"p":1},{"p":2}]}]}'; do
		grep -qF -- "$v" "$MAN" || fail "sluice(5) does not quote $v"
	done
}

# reference: an implementation of sluice(5)'s PERSISTED IDENTIFIERS in
# Python, independent of the C code; reads what is named on its command line.
reference() {
	cat > ref.py <<'EOF'
import base64, json, sqlite3, sys

M = (1 << 64) - 1
K1, K2 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f

def mix(x):
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
    return x ^ (x >> 31)

def words(d):
    for i in range(0, len(d), 8):
        yield int.from_bytes(d[i:i + 8], 'little'), len(d) - i < 8

def hash64(d):
    h = K1 ^ len(d)
    for w, _ in words(d):
        h = ((h ^ mix(w)) * K2) & M
    return mix(h)

def hash128(d):
    a, b = K1 ^ len(d), K2 ^ ((len(d) * K1) & M)
    for w, tail in words(d):
        t = 0xff if tail else 0
        a = (mix(a ^ w ^ t) * K2) & M
        b = mix((b + w * K1 + t) & M) ^ a
    h0 = mix(a ^ mix(b))
    return h0, mix(b ^ h0)

def idtext(a, b):
    d = a.to_bytes(8, 'little') + b.to_bytes(8, 'little')
    return base64.urlsafe_b64encode(d).decode().rstrip('=')

def idwords(text):
    d = base64.urlsafe_b64decode(text + '==')
    return int.from_bytes(d[:8], 'little'), int.from_bytes(d[8:], 'little')

class Num(str):
    pass

def text(s):
    out = '"'
    for c in s:
        if c in '"\\':
            out += '\\' + c
        elif c in '\n\r\t\b\f':
            out += {'\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b',
                    '\f': '\\f'}[c]
        elif ord(c) < 0x20:
            out += '\\u%04x' % ord(c)
        else:
            out += c
    return out + '"'

def jsontext(v, canonical=False, top=False):
    if v is None: return 'null'
    if v is True: return 'true'
    if v is False: return 'false'
    if isinstance(v, Num): return str(v)
    if isinstance(v, str): return text(v)
    if isinstance(v, list):
        return '[' + ','.join(jsontext(x, canonical) for x in v) + ']'
    items = list(v.items())
    if canonical:
        if top:
            items = [(k, x) for k, x in items
                     if x is not None and not k.startswith('_sluice_')]
        items.sort(key=lambda kv: kv[0].encode())
    return '{' + ','.join(text(k) + ':' + jsontext(x, canonical)
                          for k, x in items) + '}'

def parse(line):
    return json.loads(line, parse_int=Num, parse_float=Num)

def fnv1a(d):
    h = 0xcbf29ce484222325
    for c in d:
        h = ((h ^ c) * 0x100000001b3) & M
    return h

mode, arg = sys.argv[1], sys.argv[2:]
if mode == 'root':
    # keys FILE: the _sluice_id of each bare record of FILE with key keys.
    keys, path = arg[0].split(','), arg[1]
    for line in open(path, encoding='utf-8'):
        r = parse(line)
        print(idtext(*hash128(b'\x1f'.join(
            jsontext(r[k]).encode() for k in keys))))
elif mode == 'children':
    # FILE: the id each child RECORD of jsonl-normalize's output should have.
    for line in open(arg[0], encoding='utf-8'):
        m = json.loads(line)
        r = m.get('record', {})
        if m['type'] != 'RECORD' or '_sluice_parent_id' not in r:
            continue
        pa, pb = idwords(r['_sluice_parent_id'])
        i = r['_sluice_list_idx']
        a = mix(pa ^ mix((hash64(m['stream'].encode()) + i * K1) & M))
        b = mix((pb + a * K2 + i) & M)
        print(idtext(a, b))
elif mode == 'row':
    # FILE: the _sluice_row_hash of each record of FILE.
    for line in open(arg[0], encoding='utf-8'):
        print('%016x%016x' % hash128(
            jsontext(parse(line), True, True).encode()))
elif mode == 'schema':
    # DB LOAD: the version hash of each schema, then the schema_version of
    # LOAD, a load whose every table's schema was new.
    db = sqlite3.connect(arg[0])
    v = 0
    for name, schema, load in db.execute('SELECT table_name, schema,'
            ' load_id FROM _sluice_schemas ORDER BY rowid'):
        h = fnv1a(name.encode() + b'\0' + schema.encode())
        print('%016x' % h)
        if load == arg[1]:
            v = (v * 31 + h) & M
    print('%016x' % v)
EOF
	python3 ref.py "$@"
}

@test "sluice(5)'s recipe reproduces the root ids of -k" {
	printf '%s\n' '{"a":1,"b":"x"}' '{"a":"1","b":2.50}' \
	    '{"a":true,"b":"\ud83d\ude00 \u00e9\t\u001f\u007f\\\/"}' > in.jsonl
	ids -t t -k a,b < in.jsonl > got
	run -0 reference root a,b in.jsonl
	assert_equal "$output" "$(awk '{ print $5 }' got)"
	assert_equal "${lines[0]}" vqnrqLgC63Y_4Vcskk4-LA
}

@test "sluice(5)'s recipe reproduces the child ids, with and without -k" {
	printf '%s\n' '{"id":1,"items":[{"sku":"x","parts":[{"p":1},{"p":2}]},{"sku":"y"}],"tags":["red","blue"],"l":[[1],[2,3]],"Größe":[{"x":1}]}' > in.jsonl
	for k in "-k id" ""; do
		# shellcheck disable=SC2086
		ids -t orders --naming keep $k < in.jsonl > got
		run -0 reference children out
		assert_equal "$output" "$(awk '$2 != "-" { print $5 }' got)"
		assert_equal "${#lines[@]}" 12
	done
}

@test "sluice(5)'s recipe reproduces the row hashes" {
	printf '%s\n' '{"id":1,"name":"caf\u00e9","tags":{"z":1,"a":[true,null]},"gone":null,"_sluice_load_id":"L"}' \
	    '{"id":2,"note":"tab\there \"q\" \u0001 \/ \ud83d\ude00","B":1,"a":2.50,"list":[{"y":null,"x":"1"}],"_sluice_id":"zzz"}' \
	    '{"id":3,"\u00e9":1,"e":{"\u00e9":null,"z":"\u007f"},"F":[]}' > in.jsonl
	sqlite-load db -t t -k id -m scd2 -q in.jsonl || fail "sqlite-load exited $?"
	run -0 reference row in.jsonl
	assert_equal "$output" "$(sql db 'SELECT _sluice_row_hash FROM t ORDER BY rowid')"
	assert_equal "${lines[0]}" 782d94b9e7d74f2858bee453031d2a88
}

@test "sluice(5)'s recipe reproduces the schema version hashes" {
	printf '%s\n' '{"id":1,"x":"a","n":{"m":2.5}}' |
	    sqlite-load db -t t -k id -m scd2 --load-id L1 -q || fail "sqlite-load exited $?"
	printf '%s\n' '{"type":"RECORD","stream":"u","record":{"v":true}}' \
	    '{"type":"RECORD","stream":"t","record":{"id":2,"y":null}}' |
	    sqlite-load db --load-id L2 -q || fail "sqlite-load exited $?"
	run -0 reference schema db L2
	assert_equal "${#lines[@]}" 4
	assert_equal "$(printf '%s\n' "${lines[@]:0:3}")" \
	    "$(sql db 'SELECT version_hash FROM _sluice_schemas ORDER BY rowid')"
	assert_equal "${lines[3]}" \
	    "$(sql db "SELECT schema_version FROM _sluice_loads WHERE load_id = 'L2'")"
}
