# The two entry points: `make bench` (the main job) and `make test`.
# Both install missing Debian packages (scripts/bootstrap.sh), configure, build and run.

JOBS ?= $(shell nproc)
PRESET ?= release
KEYREQ = build/$(PRESET)/bin/keyreq

.PHONY: all bench test build deps test-asan test-tsan fuzz install clean format format-check

all: build

deps:
	@scripts/bootstrap.sh

build/%/build.ninja: | deps
	cmake --preset $* >/dev/null

build: deps build/$(PRESET)/build.ninja
	cmake --build --preset $(PRESET) -j $(JOBS)

# Main job: a performance report on the embedded default (SQLite).
bench: build
	$(KEYREQ) bench --profile quick

# CTEST_ARGS: extra ctest arguments, e.g. CTEST_ARGS='-LE slow'.
CTEST_ARGS ?=
test: build
	ctest --preset $(PRESET) -j $(JOBS) $(CTEST_ARGS)

test-asan:
	$(MAKE) test PRESET=asan-ubsan

test-tsan:
	$(MAKE) test PRESET=tsan

# libFuzzer targets (clang-14, ASan+UBSan), SECONDS each.
SECONDS ?= 60
fuzz: deps
	scripts/run-fuzzers.sh $(SECONDS)

# keyreq, keyreq-provider, keyreq-replay-provider into PREFIX/bin, the docs into PREFIX/share/doc/keyreq.
PREFIX ?= /usr/local
install: build
	cmake --install build/$(PRESET) --prefix $(PREFIX)

# clang-format-14 over every tracked C++ file; format-check changes nothing
# and fails on a difference (the CI's style step).
format: deps
	scripts/format.sh

format-check: deps
	scripts/format.sh --check

clean:
	rm -rf build
