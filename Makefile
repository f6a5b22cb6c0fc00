# Entry points (README): `make demo` and `make test` set everything up from a fresh
# Debian 12 machine. BUILD_TYPE, BUILD_DIR and JOBS may be overridden.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

FUZZ_SECONDS ?= 300

.PHONY: deps configure build demo test bench clean format sanitize fuzz

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(BUILD_DIR)/murmur run configs/quickstart.toml

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	bash bench/overhead.sh
	$(BUILD_DIR)/murmur bench compress

# The sanitized build leaves the MPI transport out (Open MPI under ASan/LSan is not checked yet).
sanitize:
	$(MAKE) test BUILD_DIR=build-sanitize BUILD_TYPE=RelWithDebInfo \
	  CMAKE_FLAGS="-DMURMUR_SANITIZE=ON -DMURMUR_BUILD_BENCH=OFF -DMURMUR_WITH_MPI=OFF"

# libFuzzer on every network-facing decoder, FUZZ_SECONDS per fuzzer (clang, ASan + UBSan):
# payload/index/frame decoders, the algorithms' message checks, the MPI batch framing, the
# majority-vote frames (votes, masks, values, means), the .npy header parser.
# Every input that once crashed a fuzzer is kept in fuzz/regressions/ and replayed first.
fuzz:
	bash scripts/install-deps.sh --fuzz
	CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMURMUR_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)
	build-fuzz/fuzz/make_seeds build-fuzz/corpus
	# Inputs that once crashed a decoder (fuzz/regressions/<fuzzer>-<hash>) must pass first.
	build-fuzz/fuzz/decode_fuzzer fuzz/regressions/decode-*
	for f in decode message mpi_framing vote npy; do \
	  echo "== $${f}_fuzzer for $(FUZZ_SECONDS) s"; \
	  build-fuzz/fuzz/$${f}_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -max_len=4096 build-fuzz/corpus/$$f || exit 1; \
	done

format:
	bash scripts/install-deps.sh --format
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD_DIR)
