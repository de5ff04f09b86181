# The README's two commands: `make demo` and `make test`. Everything else is a helper target.
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 30

.PHONY: all deps test-tools build build-asan build-fuzz build-tsan demo test test-release test-asan test-fuzz test-tsan bench clean

all: build

deps:
	./deploy/install-deps.sh

# warcio (npm) checks crawld's WARC files independently; without the registry its test skips.
test-tools:
	./deploy/install-test-tools.sh || echo "warning: warcio could not be installed; its test will be skipped"

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCRAWLD_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Installs what is missing, builds, serves the built-in test web on 127.0.0.10-13 and crawls it.
demo: build
	./deploy/demo.sh $(BUILD)/crawld

test-release: build test-tools
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: build-asan test-tools
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# libFuzzer + ASan + UBSan (clang 14): only the plain libraries and tests/fuzz/*_fuzz.cpp; each target
# runs FUZZ_SECONDS on its seed corpus (tests/fuzz/corpus/<target>/). docs/hostile.md.
build-fuzz: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCRAWLD_FUZZ=ON -DFUZZ_SECONDS=$(FUZZ_SECONDS) $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

test-fuzz: build-fuzz
	ctest --test-dir $(FUZZ_BUILD) -L fuzz --output-on-failure -j $(JOBS)

# ThreadSanitizer build of the actor (test_engine) and fetch (test_fetch) tests; tests/tsan.supp.
build-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRAWLD_TSAN=ON $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target test_engine test_fetch

test-tsan: build-tsan
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS)

# Installs what is missing, builds (release and ASan+UBSan) and runs every test in both builds,
# then runs each fuzz target FUZZ_SECONDS. test-tsan is left out: see docs/hostile.md.
test: test-release test-asan test-fuzz

bench: build
	./bench/run.sh $(BUILD)/crawld

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
