# Thin wrapper around CMake. `make demo` and `make test` install what is missing first.
# `make install` puts geoflux in $(PREFIX)/bin (default /usr/local/bin).
BUILD ?= build
PREFIX ?= /usr/local
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
.PHONY: all build demo test sanitize tsan fuzz-smoke bench clean setup setup-demo install

all: build

setup:
	@tools/setup.sh build

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) | grep -v -e '^\[' -e 'Built target' -e 'Scanning dependencies' || true

setup-demo:
	@tools/setup.sh demo

# setup-demo first: the demo also installs the map page's npm packages
demo: setup-demo build
	@tools/demo.sh $(BUILD)/geoflux

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

test:
	@tools/setup.sh test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# At -O1, as AddressSanitizer's documentation advises for reasonable speed
# (in CI here: 720 s at -O1, 736 s at -O0; most of CI's time either way)
sanitize:
	@tools/setup.sh test
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DGF_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer on the unit tests and the multi-threaded pipeline tests
# (convert's workers, the tiles' pool, the gzip read-ahead of cli.ingest) and geoflux serve (its request
# threads, the archive references). tests/tsan.supp says why each
# third-party suppression is there.
TSAN_TESTS ?= ^(unit\.|cli\.(convert|ingest|tiles|multi_output|serve|validate_threads)$$)
tsan:
	@tools/setup.sh test
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGF_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

# Every tests/fuzz/fuzz_*.c under libFuzzer for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 20
fuzz-smoke:
	@JOBS=$(JOBS) tools/fuzz.sh all $(FUZZ_SECONDS)

bench: build
	@bench/run

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz out
