# sluice — build, test, install.  See README.md.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
VERSION  = 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -pthread -DSLUICE_VERSION='"$(VERSION)"' -Ilib
WERROR  ?=
WARN     = $(WERROR) -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wold-style-definition -Wformat=2 \
           -Wwrite-strings -Wcast-qual -Wundef -Wvla -Wnull-dereference \
           -Werror=implicit-function-declaration
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection
SAN      = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=all

PKGS     = yajl sqlite3 libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lyajl -lsqlite3 -lpq)
LDLIBS  += $(PKG_LIBS) -lcurl -ljq -lcsv -lz -lcrypto -lsodium -lm -pthread

# Debian packages the build, the tests and the demo need.
DEPS = build-essential pkg-config clang-tidy cppcheck libcurl4-openssl-dev libjq-dev libyajl-dev \
       libcsv-dev libsqlite3-dev libssl-dev libsodium-dev libpq-dev zlib1g-dev sqlite3 jq bats bats-assert \
       bats-support python3 mandoc time openssl clang libclang-rt-14-dev \
       openssh-server openssh-client parallel python3-jsonschema \
       postgresql-15 postgresql-15-wal2json
# tests/examples.bats renders the Airflow DAG with Jinja2, as Airflow does.
DEPS += python3-jinja2
BENCH_DEPS = sqlite-utils miller curl

# Each program is cmd/NAME/: main.c and the modules only NAME uses.  lib/
# holds what two or more programs share (lib/README).
PROGS = cdc-decode dedup-merge jsonl-normalize pg-load pgfetch schema-infer sqlite-load
LIBSRC = $(sort $(wildcard lib/*.c))
LIBHDR = $(wildcard lib/*.h)
CMDSRC = $(sort $(wildcard cmd/*/*.c))
CMDHDR = $(wildcard cmd/*/*.h)
# The programs' own modules without their main(): the unit tests and the
# fuzz targets link them, and find their headers through CMDINC.
MODSRC = $(filter-out cmd/%/main.c,$(CMDSRC))
CMDINC = $(PROGS:%=-Icmd/%)

BUILD ?= build
OBJ    = $(LIBSRC:lib/%.c=$(BUILD)/lib/%.o)
CMDOBJ = $(CMDSRC:cmd/%.c=$(BUILD)/cmd/%.o)
MODOBJ = $(MODSRC:cmd/%.c=$(BUILD)/cmd/%.o)
BINS   = $(PROGS:%=bin/%)
UNITS  = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/*.c))

BATS_ENV = ASAN_OPTIONS=exitcode=86:detect_leaks=1 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87

.PHONY: all deps bench-deps check check-asan test unit demo bench lint \
        install uninstall clean fuzz fuzz-build

all: $(BINS)

$(BUILD)/lib/%.o: lib/%.c $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c $(LIBHDR) $(CMDHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

# The archives depend on the Makefile too: a module moved in or out of
# lib/ changes their member list, not the objects' times.
$(BUILD)/libsluice.a: $(OBJ) Makefile
	rm -f $@
	$(AR) rcs $@ $(OBJ)

$(BUILD)/libcmd.a: $(MODOBJ) Makefile
	rm -f $@
	$(AR) rcs $@ $(MODOBJ)

# bin/NAME: the objects of cmd/NAME/ and what they use of lib/.
$(foreach p,$(PROGS),$(eval bin/$(p): $(filter $(BUILD)/cmd/$(p)/%,$(CMDOBJ))))
bin/%: $(BUILD)/libsluice.a
	@mkdir -p bin
	$(CC) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $(filter %.o,$^) $(BUILD)/libsluice.a $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c tests/unit/check.h $(BUILD)/libcmd.a \
    $(BUILD)/libsluice.a $(LIBHDR) $(CMDHDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CMDINC) $(WARN) $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(BUILD)/libcmd.a $(BUILD)/libsluice.a $(LDLIBS)

# Install the Debian packages that are missing; do nothing when all are there.
deps:
	@missing=; for p in $(DEPS) $(EXTRA_DEPS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing$$missing"; \
	    SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

bench-deps:
	@$(MAKE) --no-print-directory deps EXTRA_DEPS="$(BENCH_DEPS)"

unit: $(UNITS)
	@set -e; for t in $(UNITS); do $$t; done

test: all unit
	$(BATS_ENV) bats tests/

# Lint, the whole suite, the fuzz targets for a short while, then the whole
# suite again under ASan and UBSan.
check: deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) --no-print-directory check-asan

check-asan:
	$(MAKE) --no-print-directory clean-bin
	$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="$(SAN)" HARDEN= test
	$(MAKE) --no-print-directory clean-bin

# libFuzzer targets (tests/fuzz/): lib/ and the programs' modules built again by clang with the
# fuzzer's coverage and ASan+UBSan into $(FUZZ_BUILD).  `make fuzz` first
# replays the seed corpus kept in the tree (tests/fuzz/corpus/NAME, which
# holds the regression inputs too), then runs each target for FUZZ_SECONDS;
# new inputs go to $(FUZZ_BUILD)/corpus/NAME, a crash to
# $(FUZZ_BUILD)/crash-NAME-*.
FUZZ_BUILD   = build-fuzz
FUZZ_CC      = clang
FUZZ_SAN     = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all
FUZZ_SECONDS ?= 300
CHECK_FUZZ_SECONDS = 20
FUZZ_TARGETS = jval ndjson extract_json extract_csv gunzip normalize message pgtype cdc \
               contract fastline
FUZZ_OBJ     = $(LIBSRC:lib/%.c=$(FUZZ_BUILD)/lib/%.o)
FUZZ_MODOBJ  = $(MODSRC:cmd/%.c=$(FUZZ_BUILD)/cmd/%.o)
FUZZ_BINS    = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(LIBHDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(PKG_CFLAGS) $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/cmd/%.o: cmd/%.c $(LIBHDR) $(CMDHDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(WARN) $(PKG_CFLAGS) $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libsluice.a: $(FUZZ_OBJ) Makefile
	rm -f $@
	$(AR) rcs $@ $(FUZZ_OBJ)

$(FUZZ_BUILD)/libcmd.a: $(FUZZ_MODOBJ) Makefile
	rm -f $@
	$(AR) rcs $@ $(FUZZ_MODOBJ)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/*.h $(FUZZ_BUILD)/libcmd.a \
    $(FUZZ_BUILD)/libsluice.a $(LIBHDR) $(CMDHDR)
	$(FUZZ_CC) $(CPPFLAGS) $(CMDINC) -Itests/fuzz $(WARN) $(PKG_CFLAGS) \
	    $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libcmd.a \
	    $(FUZZ_BUILD)/libsluice.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t; \
	    echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	        $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t \
	        2>$(FUZZ_BUILD)/fuzz_$$t.log || \
	        { tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
	    grep -E '^(stat::number_of_executed_units|Done)' $(FUZZ_BUILD)/fuzz_$$t.log || true; \
	done

clean-bin:
	rm -f $(BINS)

demo: deps all
	sh examples/demo.sh bin demo.db

bench: bench-deps all
	sh tests/bench/run.sh "$(CURDIR)/bin"
	sh tests/bench/pgfetch.sh "$(CURDIR)/bin"
	sh tests/bench/sftp.sh "$(CURDIR)/bin"
	sh tests/bench/dedup.sh "$(CURDIR)/bin"
	sh tests/bench/merge.sh "$(CURDIR)/bin"
	sh tests/bench/cdc.sh "$(CURDIR)/bin"
	sh tests/bench/diff.sh "$(CURDIR)/bin"
	sh tests/bench/columns.sh "$(CURDIR)/bin"
	sh tests/bench/pgload.sh "$(CURDIR)/bin"

# lib/ neither prints nor exits (lib/README), nor do the programs' own
# modules (cmd/NAME/ but main.c): outside the front-end (cli, cliopt) and
# xalloc's out of memory, none of their objects may reference these:
# the ways to end the program, the standard streams and what writes to
# them unnamed.  fprintf or fwrite to a FILE * the caller gives is allowed.
LIB_MAY_EXIT  = cli cliopt xalloc
LIB_FORBIDDEN = exit _exit _Exit quick_exit abort err errx verr verrx \
                warn warnx vwarn vwarnx printf vprintf __printf_chk \
                __vprintf_chk puts putchar perror stderr stdout

# One clang-tidy per file: in one run, clang-tidy 14's analyzer carries
# va_list state from one file into the next and reports false positives.
lint: $(OBJ) $(MODOBJ)
	@bad=; for o in $(OBJ) $(MODOBJ); do \
	    m=$${o#$(BUILD)/}; m=$${m%.o}; \
	    case " $(LIB_MAY_EXIT) " in *" $${m#lib/} "*) continue ;; esac; \
	    s=$$(nm -u $$o | awk '{ print $$NF }' | \
	        grep -xF $(LIB_FORBIDDEN:%=-e %) | tr '\n' ' '); \
	    [ -z "$$s" ] || { echo "$$m.c prints or exits: $$s" >&2; bad=1; }; \
	done; [ -z "$$bad" ]
	printf '%s\n' lib/*.c cmd/*/*.c | xargs -P 2 -I{} \
	    clang-tidy --quiet {} -- $(CPPFLAGS) -std=c11 $(PKG_CFLAGS)
	@! grep -nE '\<(gets|sprintf|strcpy|strcat|strtok|atoi|atol)[[:space:]]*\(' cmd/*/*.c lib/*.c
	cppcheck --quiet --enable=warning,style,performance,portability --std=c11 \
	    --inline-suppr --suppress=variableScope --error-exitcode=1 -Ilib cmd lib
	mandoc -Tlint -Wwarning man/*.[157]

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(PROGS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/sluice.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/sluice.7 $(DESTDIR)$(MANDIR)/man7

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%) $(PROGS:%=$(DESTDIR)$(MANDIR)/man1/%.1) \
	    $(DESTDIR)$(MANDIR)/man5/sluice.5 $(DESTDIR)$(MANDIR)/man7/sluice.7

clean:
	rm -rf build build-asan $(FUZZ_BUILD) bin demo.db demo.db-wal demo.db-shm
