# cxstream — one Makefile, top to bottom:
#   make            build build/cxstream and build/cxstream-gen (release, jemalloc)
#   make run        build, then run the embedded demo (KAFKA=host:port for a real broker)
#   make test       install what is missing, build, run every test (also under ASan+UBSan)
#   make deps       idempotent install of the Debian packages and Python test packages
#   make bench      bench/run: throughput, memory, latency, the Kafka Streams peer (not in make test)
#   make clean
# Objects go to build/obj (release) and build/asan/obj (sanitizers).

CC      ?= cc
PKGS    := rdkafka avro-c libxxhash libcrypto libmicrohttpd zlib
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CFLAGS  ?= -O2 -g
DEPFLAGS = -MMD -MP
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
JEMALLOC   := $(shell pkg-config --libs jemalloc 2>/dev/null)
CMOCKA     := $(shell pkg-config --libs cmocka 2>/dev/null)
SAN_FLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Everything but the programs' main files is one library, linked into the
# programs and into every unit test.
LIB_SRC  := $(wildcard operators/*.c) $(filter-out stream/main.c,$(wildcard stream/*.c)) \
            $(filter-out bench/gen.c bench/hotpath.c,$(wildcard bench/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
TESTS    := $(patsubst tests/%.c,build/%,$(TEST_SRC))
ASAN_TESTS := $(patsubst tests/%.c,build/asan/%,$(TEST_SRC))

LIB_OBJ      := $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
ASAN_LIB_OBJ := $(patsubst %.c,build/asan/obj/%.o,$(LIB_SRC))

# Keep test objects between runs (they are not intermediate files to delete).
.SECONDARY:

.PHONY: all run test unit-test asan-test integration-test golden-test deps clean bench
all: build/cxstream build/cxstream-gen build/cxstream-hotpath

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(DEPFLAGS) -DCX_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -c $< -o $@

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) $(DEPFLAGS) -DCX_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -c $< -o $@

build/cxstream: build/obj/stream/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(JEMALLOC)

build/cxstream-gen: build/obj/bench/gen.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(JEMALLOC)

# The in-process hot path (decode + operators, no I/O) for bench/run.
build/cxstream-hotpath: build/obj/bench/hotpath.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(JEMALLOC)

build/test_%: build/obj/tests/test_%.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA)

build/asan/test_%: build/asan/obj/tests/test_%.o $(ASAN_LIB_OBJ)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA)

build/asan/cxstream: build/asan/obj/stream/main.o $(ASAN_LIB_OBJ)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

KAFKA ?=
# stdout carries only the alerts (JSON lines); the summary goes to stderr.
run: deps all
	@build/cxstream demo $(if $(KAFKA),-X kafka.bootstrap.servers=$(KAFKA))

deps:
	@deploy/install-deps.sh

unit-test: $(TESTS)
asan-test: $(ASAN_TESTS) build/asan/cxstream

# The runner prints one result line per test program and a final
# "N passed, N failed" line; it exits non-zero when anything failed.
test: deps
	$(MAKE) all unit-test asan-test
	tests/run-all.sh

# --- fuzz: libFuzzer targets of tests/fuzz/ (clang; installed when missing) --
#   make fuzz FUZZ_SECONDS=N   runs each target N seconds, one after the other,
#                              from its seed corpus tests/fuzz/corpus/<target>/;
#                              new inputs go to build/fuzz/corpus/<target>/,
#                              crashes to build/fuzz/crashes/ (make fails then)
#   make fuzz-build            only builds build/fuzz/fuzz_<target>
#   make fuzz-seeds            rewrites the seed corpora from valid inputs
#   make fuzz-coverage         line coverage the corpora reach (llvm-cov)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= codec_confluent codec_raw event_decode config state_codec jsonl ocf
FUZZ_FLAGS   ?=
FUZZ_SAN     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC))
FUZZ_BINS    := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-cc
fuzz-cc:
	@command -v $(FUZZ_CC) >/dev/null || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "fuzz: installing clang" >&2; $$sudo apt-get install -y -qq clang >/dev/null; }

build/fuzz/obj/%.o: %.c | fuzz-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(DEPFLAGS) -DCX_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -c $< -o $@

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz-seeds: build/fuzz/make_seeds
	build/fuzz/make_seeds

build/fuzz/make_seeds: build/obj/tests/fuzz/make_seeds.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# Line coverage of what the fuzzers reached: each target, built with
# source-based coverage, runs once over its corpus (build/fuzz/corpus/ and
# the seeds); llvm-cov reports the files the target is about.
FUZZ_COV_FILES_codec := stream/codec.c stream/avro_guard.c stream/event_avro.c stream/frame.c
FUZZ_COV_FILES_config := stream/config.c
FUZZ_COV_FILES_state_codec := operators/state_codec.c operators/state.c
FUZZ_COV_FILES_jsonl := stream/jsonl.c
FUZZ_COV := -O0 -g -fprofile-instr-generate -fcoverage-mapping
.PHONY: fuzz-coverage
build/fuzzcov/obj/%.o: %.c | fuzz-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) $(FUZZ_COV) -fsanitize=fuzzer-no-link $(DEPFLAGS) -DCX_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -c $< -o $@

build/fuzzcov/fuzz_%: build/fuzzcov/obj/tests/fuzz/fuzz_%.o $(patsubst %.c,build/fuzzcov/obj/%.o,$(LIB_SRC))
	$(FUZZ_CC) $(FUZZ_COV) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz-coverage: $(patsubst %,build/fuzzcov/fuzz_%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  LLVM_PROFILE_FILE=build/fuzzcov/$$t.profraw build/fuzzcov/fuzz_$$t -runs=0 \
	    build/fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>/dev/null >/dev/null; \
	  llvm-profdata merge -sparse build/fuzzcov/$$t.profraw -o build/fuzzcov/$$t.profdata; \
	  echo "== $$t"; \
	  llvm-cov report build/fuzzcov/fuzz_$$t -instr-profile=build/fuzzcov/$$t.profdata \
	    $$(case $$t in ocf) echo stream/ocf.c;; codec_*|event_decode) echo $(FUZZ_COV_FILES_codec);; config) echo $(FUZZ_COV_FILES_config);; \
	       state_codec) echo $(FUZZ_COV_FILES_state_codec);; jsonl) echo $(FUZZ_COV_FILES_jsonl);; esac) \
	    | grep -v '^---'; \
	done

# Bounded memory: tests/golden/test_memory_bound.sh pushes CX_MEMORY_IDS
# distinct customer ids (2M in make test) through replay under
# state.max.customers; make test-memory runs it with 50M.
CX_MEMORY_IDS ?= 50000000
.PHONY: test-memory
build/cx-distinct-ids: build/obj/tests/memory/distinct_ids.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

test-memory: all build/cx-distinct-ids
	CX_MEMORY_IDS=$(CX_MEMORY_IDS) bash tests/golden/test_memory_bound.sh

# One target at a time (each uses one core); a crash stops the run.
fuzz: fuzz-build
	@mkdir -p build/fuzz/crashes
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  env $$(if [ $$t = ocf ]; then echo LSAN_OPTIONS=suppressions=tests/fuzz/lsan-ocf.supp:print_suppressions=0; fi) \
	  build/fuzz/fuzz_$$t build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/crashes/$$t- $(FUZZ_FLAGS) \
	    2>build/fuzz/$$t.log || { tail -60 build/fuzz/$$t.log; exit 1; }; \
	  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::)' build/fuzz/$$t.log | sed "s/^/  $$t: /"; \
	done

# Benchmarks (issue 6): a table on stdout and bench/results/<date>.md with PNG
# plots; needs the local broker (deploy/kafka-local.sh start). Not part of
# `make test`. BENCH_ARGS=--quick for a smoke run of a minute.
bench: all
	bench/run $(BENCH_ARGS)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
