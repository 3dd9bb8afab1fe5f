# C++ worker SDK (sdks/cpp) and example worker (workers/cpp), built with CMake on Debian's gRPC.
CPP_SDK_DIR := $(ROOT)/sdks/cpp
CPP_SDK_BUILD := $(CPP_SDK_DIR)/build
CPP_SDK_PREFIX := $(CPP_SDK_BUILD)/install
CPP_WORKER_BUILD := $(ROOT)/workers/cpp/build
# The example worker binary (the agent's worker command for C++ partitions).
CPP_WORKER_BIN := $(CPP_WORKER_BUILD)/chorus-worker-cpp
CPP_JOBS ?= 2
# Debian bookworm package versions.
CPP_GTEST_DEB := 1.12.1-0.2
CPP_CMAKE_DEB := 3.25.1-1
CPP_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: cpp-deps
cpp-deps: ## Install the C++ toolchain: gRPC/protobuf (-dev), GoogleTest, CMake, OpenSSL headers
	@bash scripts/install-system.sh cpp
	@if ! dpkg -s libgtest-dev libssl-dev cmake g++ >/dev/null 2>&1; then \
	  $(CPP_SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(CPP_SUDO) apt-get install -y -qq \
	    libgtest-dev=$(CPP_GTEST_DEB) googletest=$(CPP_GTEST_DEB) cmake=$(CPP_CMAKE_DEB) \
	    cmake-data=$(CPP_CMAKE_DEB) libssl-dev g++ >/dev/null; fi

.PHONY: cpp-build
cpp-build: cpp-deps ## Build the C++ SDK, its tests and workers/cpp/build/chorus-worker-cpp
	cmake -S $(CPP_SDK_DIR) -B $(CPP_SDK_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCHORUS_EXAMPLE_WORKER=$(CPP_WORKER_BIN) >/dev/null
	cmake --build $(CPP_SDK_BUILD) -j$(CPP_JOBS)
	cmake --install $(CPP_SDK_BUILD) --prefix $(CPP_SDK_PREFIX) >/dev/null
	cmake -S $(ROOT)/workers/cpp -B $(CPP_WORKER_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_PREFIX_PATH=$(CPP_SDK_PREFIX) >/dev/null
	cmake --build $(CPP_WORKER_BUILD) -j$(CPP_JOBS)

.PHONY: test-cpp
test-cpp: cpp-build ## C++ SDK unit tests (GoogleTest via ctest)
	cd $(CPP_SDK_BUILD) && ctest --output-on-failure -j$(CPP_JOBS)

.PHONY: cpp-bench
cpp-bench: cpp-build ## Zero-work tasks/s of the C++ SDK through the in-process test agent
	cmake --build $(CPP_SDK_BUILD) -j$(CPP_JOBS) --target chorus_worker_bench
	$(CPP_SDK_BUILD)/tests/chorus_worker_bench

TEST_TARGETS += test-cpp
