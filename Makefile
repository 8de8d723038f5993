# target-stitch and tap-taktile.  `make` builds bin/, `make test` runs the
# whole suite, `make asan` and `make valgrind` run it under the sanitizers
# or valgrind, `make bench` prints the benchmark figures, `make deps`
# installs the Debian packages the build needs (as root).

CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
PYTHON  ?= python3

PKGS     = libcurl json-c zlib
# Debian packages that provide each pkg-config module, in the same order.
DEB_PKGS = libcurl4-openssl-dev libjson-c-dev zlib1g-dev pkg-config

# Expanded when used, so that a `make deps` earlier in the same run counts.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN = -Wall -Wextra
ifeq ($(DEV),1)
WARN += -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wvla \
	-Wwrite-strings -Wformat=2 -Wno-format-nonliteral
endif

ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(PKG_CFLAGS) -pthread
ALL_LIBS   = $(PKG_LIBS) -pthread

BUILD ?= build
BIN   ?= bin

COMMON_SRC = $(wildcard common/*.c)
TARGET_SRC = $(filter-out target/main.c,$(wildcard target/*.c))
TAP_SRC    = $(filter-out tap/main.c,$(wildcard tap/*.c))
UNIT_SRC   = $(wildcard tests/unit/test_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
TARGET_OBJ = $(TARGET_SRC:%.c=$(BUILD)/%.o)
TAP_OBJ    = $(TAP_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test check unit integration asan valgrind bench clean deps \
	deps-check install

all: $(BIN)/target-stitch $(BIN)/tap-taktile

deps-check:
	@missing=""; set -- $(DEB_PKGS); \
	command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"; \
	for m in $(PKGS); do \
		pkg-config --exists $$m 2>/dev/null || missing="$$missing $$1"; \
		shift; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "missing build dependencies:$$missing" >&2; \
		echo "install them with: sudo apt-get install -y$$missing" >&2; \
		echo "(or run 'make deps' as root)" >&2; \
		exit 1; \
	fi

deps:
	@if $(MAKE) -s deps-check >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then $(MAKE) -s deps-check; exit 1; fi; \
	echo "installing $(DEB_PKGS) with apt-get"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq $(DEB_PKGS) >/dev/null

$(BUILD)/%.o: %.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BIN)/target-stitch: $(BUILD)/target/main.o $(TARGET_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ $(ALL_LIBS) -o $@

$(BIN)/tap-taktile: $(BUILD)/tap/main.o $(TAP_OBJ) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(ALL_CFLAGS) $^ $(ALL_LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(TARGET_OBJ) $(TAP_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ $(ALL_LIBS) -o $@

unit: $(UNIT_BIN)

# The whole suite: unit tests, then the programs against local stand-ins.
test check: deps
	@$(MAKE) --no-print-directory all unit
	@BIN=$(BIN) BUILD=$(BUILD) $(PYTHON) tests/run.py $(TESTS)

asan:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/bin \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		all unit
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	BIN=build-asan/bin BUILD=build-asan $(PYTHON) tests/run.py $(TESTS)

valgrind:
	@$(MAKE) --no-print-directory deps all unit
	@command -v valgrind >/dev/null || { \
		[ "$$(id -u)" = 0 ] && apt-get install -y -qq valgrind >/dev/null; }
	@VALGRIND=1 BIN=$(BIN) BUILD=$(BUILD) $(PYTHON) tests/run.py $(TESTS)

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/jsonc-parse \
		$(BUILD)/bench/rusage
	@BIN=$(BIN) BUILD=$(BUILD) $(PYTHON) bench/bench.py
	@BIN=$(BIN) BUILD=$(BUILD) $(PYTHON) bench/bench_tap.py

$(BUILD)/bench/rusage: bench/rusage.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@

$(BUILD)/bench/jsonc-parse: bench/jsonc_parse.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(ALL_LIBS) -o $@

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BIN)/target-stitch $(BIN)/tap-taktile \
		$(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-asan build-fuzz bin

# Fuzzing with clang's libFuzzer under ASan and UBSan.  `make fuzz` builds
# the harnesses in tests/fuzz/, `make fuzz-run` fuzzes each for
# FUZZ_SECONDS on a copy of its seed corpus, `make fuzz-regress` replays the
# inputs kept in tests/fuzz/regressions/<harness>/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD    = build-fuzz
FUZZ_DEBS     = clang libclang-rt-14-dev
FUZZ_CFLAGS   = -std=gnu11 $(WARN) -g -O1 \
	-fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined $(PKG_CFLAGS) -pthread
FUZZ_BIN = $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,\
	$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJ = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,\
	$(COMMON_SRC) $(TARGET_SRC) $(TAP_SRC))

.PHONY: fuzz fuzz-deps fuzz-bin fuzz-run fuzz-regress fuzz-clean

fuzz-deps: deps
	@mkdir -p $(FUZZ_BUILD); echo '*' >$(FUZZ_BUILD)/.gitignore; \
	echo 'int LLVMFuzzerTestOneInput(void) { return 0; }' \
	    >$(FUZZ_BUILD)/probe.c; \
	if $(FUZZ_CC) -fsanitize=fuzzer,address,undefined \
	    $(FUZZ_BUILD)/probe.c -o $(FUZZ_BUILD)/probe >/dev/null 2>&1; \
	then exit 0; fi; \
	echo "$(FUZZ_CC) cannot link libFuzzer programs; install them with:" \
	    "sudo apt-get install -y $(FUZZ_DEBS)" >&2; \
	if [ "$$(id -u)" != 0 ]; then exit 1; fi; \
	echo "installing $(FUZZ_DEBS) with apt-get"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq $(FUZZ_DEBS) >/dev/null

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-bin

fuzz-bin: $(FUZZ_BIN)
	@:

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BIN): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_OBJ)
	$(FUZZ_CC) -g -fsanitize=fuzzer,address,undefined $^ $(ALL_LIBS) -o $@

fuzz-run: fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh run $(FUZZ_BIN)

fuzz-regress: fuzz
	@sh tests/fuzz/run.sh regress $(FUZZ_BIN)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
