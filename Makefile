# Quick start: `make demo` (synthetic data -> train -> serve -> batch score -> report) and `make test`.
BUILD_DIR ?= build
TSA_DIR   ?= build-tsa
ASAN_DIR  ?= build-asan
FUZZ_DIR  ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS      ?= $(shell nproc)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")

.PHONY: all deps build test test-unit test-asan tsa fuzz demo bench clean

all: build

deps:
	@bash scripts/install-deps

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The clang build with -Wthread-safety -Werror: compiles every target, runs nothing.
tsa: deps
	@test -f $(TSA_DIR)/CMakeCache.txt || cmake -S . -B $(TSA_DIR) -G "$(GENERATOR)" \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DRECSYS_THREAD_SAFETY=ON \
	  -DRECSYS_BUILD_BENCH=OFF -DRECSYS_BUILD_TESTS=OFF
	cmake --build $(TSA_DIR) -j $(JOBS)

test: build tsa
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600
	bash deploy/check.sh

# AddressSanitizer + UndefinedBehaviorSanitizer (gcc, -O1, any report stops the
# run): builds and runs a subset of the tests that CI can afford on 2 cores
# beside the normal build (about 10 minutes from clean, see README). The
# subset is the code that parses bytes from files and clients and does the
# index arithmetic: common (CSV tokenizer, raw rows, ranking, submission),
# featurizer (cleaning, features, product history), model_store (the XGBoost
# wrapper and model check, the store's policies) and the six fuzz corpus
# replays (which include the request decoder, server/record_codec.cc). Left
# out: the tests that need the whole gRPC server or a trained bundle
# (server/, tests/, model_version_test), whose builds would double the time;
# their input decoding is covered by the replays.
ASAN_TESTS := common_test raw_reader_test common_metrics_test featurizer_test \
  booster_test model_store_test
FUZZ_TARGETS := csv_tokenizer raw_reader request_decode manifest xgb_model \
  history_snapshot
SANITIZER_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
test-asan: deps
	@test -f $(ASAN_DIR)/CMakeCache.txt || cmake -S . -B $(ASAN_DIR) -G "$(GENERATOR)" \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DRECSYS_ASAN=ON \
	  -DRECSYS_BUILD_BENCH=OFF
	cmake --build $(ASAN_DIR) -j $(JOBS) --target $(ASAN_TESTS) \
	  $(addsuffix _replay,$(FUZZ_TARGETS))
	@set -e; for t in $(ASAN_TESTS); do \
	  echo "== $$t (asan)"; $(SANITIZER_ENV) $(ASAN_DIR)/tests/$$t --gtest_brief=1; done
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== $$t corpus (asan)"; $(SANITIZER_ENV) $(ASAN_DIR)/fuzz/$${t}_replay fuzz/corpus/$$t; done

# libFuzzer (clang, build dir build-fuzz): runs each target in fuzz/ for
# FUZZ_SECONDS, starting from its seeds in fuzz/corpus/<target>/. New inputs
# go to build-fuzz/corpus/<target>/, crashers to build-fuzz/crashers/<target>/
# (the run fails if there are any). A fixed crasher belongs in
# fuzz/corpus/<target>/, so that `make test` replays it.
fuzz: deps
	@test -f $(FUZZ_DIR)/CMakeCache.txt || cmake -S . -B $(FUZZ_DIR) -G "$(GENERATOR)" \
	  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DRECSYS_FUZZ=ON \
	  -DRECSYS_BUILD_TESTS=OFF -DRECSYS_BUILD_BENCH=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@failed=""; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashers/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  $(SANITIZER_ENV) $(FUZZ_DIR)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/crashers/$$t/ \
	    $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t 2>$(FUZZ_DIR)/fuzz_$$t.log \
	    || failed="$$failed $$t"; \
	  grep -E '^stat::(number_of_executed_units|new_units_added)' $(FUZZ_DIR)/fuzz_$$t.log || true; \
	done; \
	if [ -n "$$failed" ]; then echo "crashers in:$$failed (see $(FUZZ_DIR)/crashers/ and $(FUZZ_DIR)/fuzz_*.log)"; exit 1; fi

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

clean:
	rm -rf $(BUILD_DIR) $(TSA_DIR) $(ASAN_DIR) $(FUZZ_DIR)
