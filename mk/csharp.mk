# C# worker SDK (sdks/csharp) and example worker (workers/csharp), built with Mono's mcs (base class
# library only) for the agent's stdio transport. The same sources also build with the .NET SDK through
# the .csproj files beside them.
CSHARP_SDK_DIR := $(ROOT)/sdks/csharp
CSHARP_BUILD := $(CSHARP_SDK_DIR)/build
CSHARP_SDK_DLL := $(CSHARP_BUILD)/Chorus.Worker.dll
CSHARP_TESTS_DIR := $(CSHARP_BUILD)/tests
CSHARP_TESTS_EXE := $(CSHARP_TESTS_DIR)/Chorus.Worker.Tests.exe
CSHARP_BENCH_EXE := $(CSHARP_BUILD)/bench/Chorus.Worker.Bench.exe
CSHARP_WORKER_BUILD := $(ROOT)/workers/csharp/build
# The example worker (the agent's worker command for C# partitions: `mono $(CSHARP_WORKER_EXE)`).
CSHARP_WORKER_EXE := $(CSHARP_WORKER_BUILD)/chorus-worker-csharp.exe
# The code block of sdks/csharp/README.md, compiled as a program and run by the tests.
CSHARP_README_EXE := $(CSHARP_BUILD)/readme/ReadmeWorker.exe
CSHARP_MCS_FLAGS := -langversion:7.2 -optimize+ -debug- -nologo -warnaserror+

CSHARP_SDK_SRC = $(shell find $(CSHARP_SDK_DIR)/src -name '*.cs')
CSHARP_TESTS_SRC = $(wildcard $(CSHARP_SDK_DIR)/tests/*.cs)
CSHARP_BENCH_SRC = $(wildcard $(CSHARP_SDK_DIR)/bench/*.cs)

.PHONY: csharp-deps
csharp-deps: ## Install Mono (mcs + runtime) for the C# worker SDK
	@bash scripts/install-system.sh csharp

.PHONY: csharp-build
csharp-build: csharp-deps ## Build the C# SDK, its test runner and workers/csharp/build/chorus-worker-csharp.exe
	@$(MAKE) --no-print-directory $(CSHARP_WORKER_EXE) $(CSHARP_TESTS_EXE) $(CSHARP_README_EXE)

$(CSHARP_README_EXE): $(CSHARP_SDK_DIR)/README.md $(CSHARP_SDK_DLL)
	@mkdir -p $(@D)
	cp $(CSHARP_SDK_DLL) $(@D)/
	awk '/^```csharp$$/{f=1;next} /^```$$/{f=0} f' $< > $(@D)/Readme.cs
	mcs $(CSHARP_MCS_FLAGS) -out:$@ -r:$(@D)/Chorus.Worker.dll $(@D)/Readme.cs

$(CSHARP_SDK_DLL): $(CSHARP_SDK_SRC)
	@mkdir -p $(@D)
	mcs $(CSHARP_MCS_FLAGS) -target:library -out:$@ $^

$(CSHARP_WORKER_EXE): $(ROOT)/workers/csharp/Program.cs $(CSHARP_SDK_DLL)
	@mkdir -p $(@D)
	cp $(CSHARP_SDK_DLL) $(@D)/
	mcs $(CSHARP_MCS_FLAGS) -out:$@ -r:$(@D)/Chorus.Worker.dll $(ROOT)/workers/csharp/Program.cs

$(CSHARP_TESTS_EXE): $(CSHARP_TESTS_SRC) $(CSHARP_SDK_DLL)
	@mkdir -p $(@D)
	cp $(CSHARP_SDK_DLL) $(@D)/
	mcs $(CSHARP_MCS_FLAGS) -out:$@ -r:$(@D)/Chorus.Worker.dll -r:System.Core.dll $(CSHARP_TESTS_SRC)

$(CSHARP_BENCH_EXE): $(CSHARP_BENCH_SRC) $(CSHARP_SDK_DLL)
	@mkdir -p $(@D)
	cp $(CSHARP_SDK_DLL) $(@D)/
	mcs $(CSHARP_MCS_FLAGS) -out:$@ -r:$(@D)/Chorus.Worker.dll -r:System.Core.dll $(CSHARP_BENCH_SRC)

.PHONY: test-csharp
test-csharp: csharp-build ## C# SDK tests (JSON codec, protojson mapping, the example worker and the README's example over stdio)
	CHORUS_CSHARP_WORKER=$(CSHARP_WORKER_EXE) CHORUS_CSHARP_README_WORKER=$(CSHARP_README_EXE) mono $(CSHARP_TESTS_EXE)

.PHONY: csharp-bench
csharp-bench: csharp-build $(CSHARP_BENCH_EXE) ## Zero-work tasks/s of the C# worker over stdio, and codec cost per message
	CHORUS_CSHARP_WORKER=$(CSHARP_WORKER_EXE) mono $(CSHARP_BENCH_EXE)

TEST_TARGETS += test-csharp
