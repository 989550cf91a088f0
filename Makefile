# Quick start: `make demo` (synthetic data -> train -> serve -> batch score -> report) and `make test`.
BUILD_DIR ?= build
TSA_DIR   ?= build-tsa
JOBS      ?= $(shell nproc)
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")

.PHONY: all deps build test test-unit tsa demo bench clean

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

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

clean:
	rm -rf $(BUILD_DIR) $(TSA_DIR)
