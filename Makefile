# cxstream — one Makefile, top to bottom:
#   make            build build/cxstream and build/cxstream-gen (release, jemalloc)
#   make run        build, then run the embedded demo (KAFKA=host:port for a real broker)
#   make test       install what is missing, build, run every test (also under ASan+UBSan)
#   make deps       idempotent install of the Debian packages and Python test packages
#   make clean
# Objects go to build/obj (release) and build/asan/obj (sanitizers).

CC      ?= cc
PKGS    := rdkafka avro-c libxxhash libcrypto libmicrohttpd
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

# Everything but the two programs' main files is one library, linked into the
# programs and into every unit test.
LIB_SRC  := $(wildcard operators/*.c) $(filter-out stream/main.c,$(wildcard stream/*.c)) \
            $(filter-out bench/gen.c,$(wildcard bench/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
TESTS    := $(patsubst tests/%.c,build/%,$(TEST_SRC))
ASAN_TESTS := $(patsubst tests/%.c,build/asan/%,$(TEST_SRC))

LIB_OBJ      := $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
ASAN_LIB_OBJ := $(patsubst %.c,build/asan/obj/%.o,$(LIB_SRC))

# Keep test objects between runs (they are not intermediate files to delete).
.SECONDARY:

.PHONY: all run test unit-test asan-test integration-test golden-test deps clean
all: build/cxstream build/cxstream-gen

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

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
