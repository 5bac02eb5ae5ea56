# Cairn — the two set-up commands are `make demo` and `make test` (see README.md).
#
#   make demo      install missing system packages, build, and run the end-to-end demo
#   make test      install missing system packages, check formatting, build, and run the test suite
#   make interop   also install Go + golang.org/x/mod so the Go interop tests run (CI does this)
#   make soak      build a release binary and SIGKILL `cairn serve` 100 times under load (docs/reliability.md)
#   make soak-smoke  the short soak CI runs after `make test` (5 kills, well under a minute)
#   make crash-serve the SIGKILL test of the access outbox (ServeCrashTests, behind CAIRN_CRASH_TESTS=1)
#   make sanitize-address  the test suite under AddressSanitizer + LeakSanitizer (own build in .build-address)
#   make sanitize-thread   the test suite under ThreadSanitizer (own build in .build-thread)
#   make fuzz      build the libFuzzer targets (Fuzz/) and run each for FUZZ_RUNS executions (docs/reliability.md)
#   make fuzz-smoke  build them and run each for FUZZ_SMOKE_SECONDS seconds (20 by default)
#   make screenshots  run the dashboard's browser test and save its screenshots in docs/images/ (docs/dashboard.md)
#   make format    apply `swift format` to Sources/ and Tests/
#   make lint      check formatting without changing files

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: screenshots all deps interop-deps build release demo test interop soak soak-smoke crash-serve sanitize-address sanitize-thread format lint clean fuzz-build fuzz fuzz-smoke

all: build

# System libraries the package links: LMDB (liblmdb-dev) and OpenSSL libcrypto (libssl-dev).
deps:
	@if ! pkg-config --exists lmdb || ! pkg-config --exists libcrypto; then \
		echo "installing liblmdb-dev and libssl-dev"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblmdb-dev libssl-dev pkg-config; \
	fi

# Go and golang.org/x/mod (sumdb/note, sumdb/tlog): the independent verifier for interop tests.
interop-deps:
	@if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then \
		echo "installing golang-go and golang-golang-x-mod-dev"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-golang-x-mod-dev; \
	fi
	@# botocore (the SigV4 cross-check) and moto's server mode (the local S3 store of the object storage tests).
	@python3 -c "import botocore, boto3, moto.server, flask" 2>/dev/null || python3 -m pip install -q boto3 'moto[server]'

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: build
	@scripts/demo.sh "$$($(SWIFT) build --show-bin-path)/cairn"

test: deps lint
	$(SWIFT) test

# The dashboard's browser test (also part of `make test`, through BrowserTests), keeping its screenshots.
screenshots: build
	python3 Tests/Browser/dashboard_test.py --cairn "$$($(SWIFT) build --show-bin-path)/cairn" --screenshots docs/images

interop: deps interop-deps
	$(SWIFT) test --filter Interop

# The soak (docs/reliability.md, "Soak"); extra options go in SOAK_ARGS, e.g. SOAK_ARGS="--kills 200 --keep".
SOAK_ARGS ?=

soak: release
	scripts/soak.sh --cairn "$$($(SWIFT) build -c release --show-bin-path)/cairn" $(SOAK_ARGS)

soak-smoke: build
	scripts/soak.sh --smoke --cairn "$$($(SWIFT) build --show-bin-path)/cairn" $(SOAK_ARGS)

# `cairn serve` SIGKILLed four times under 16 clients: every acknowledged append is named in the access log.
crash-serve: deps
	CAIRN_CRASH_TESTS=1 $(SWIFT) test --filter ServeCrashTests

# The test suite under a sanitizer (docs/reliability.md, "Sanitizers"); extra `swift test` options
# go in SANITIZE_ARGS, e.g. SANITIZE_ARGS="--filter IngestEngine". Run one at a time: each is a
# full instrumented build of its own.
SANITIZE_ARGS ?=

sanitize-address: deps
	SWIFT=$(SWIFT) scripts/sanitizers/run.sh address $(SANITIZE_ARGS)

sanitize-thread: deps
	SWIFT=$(SWIFT) scripts/sanitizers/run.sh thread $(SANITIZE_ARGS)

# Fuzzing (docs/reliability.md, "Fuzzing"): the separate package Fuzz/, built with libFuzzer and AddressSanitizer
# into its own scratch directory so it never disturbs the normal build. Targets run one after another; pick
# some with FUZZ_TARGETS="FuzzJSON FuzzNote", pass libFuzzer flags in FUZZ_ARGS (e.g. FUZZ_ARGS=-seed=1).
FUZZ_SCRATCH ?= $(CURDIR)/.build-fuzz
FUZZ_RUNS ?= 10000000
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_TARGETS ?= FuzzJSON FuzzRecord FuzzNote FuzzProof FuzzTilePath FuzzPolicy FuzzNDJSON FuzzRedaction FuzzGitAINote \
	FuzzAgentTrace FuzzLineBundle FuzzDSSE FuzzWorkingEvent FuzzProviderLog FuzzBlobDisclosure FuzzTileTree FuzzKeyHistory \
	FuzzSuccession FuzzS3Error FuzzRetentionPolicy
FUZZ_BUILD = cd Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
	--scratch-path $(FUZZ_SCRATCH)

fuzz-build: deps
	@if [ ! -f Fuzz/Package.resolved ] && [ -f Package.resolved ]; then cp Package.resolved Fuzz/; fi
	$(FUZZ_BUILD)

fuzz: fuzz-build
	scripts/fuzz.sh --bin "$$($(FUZZ_BUILD) --show-bin-path)" --runs $(FUZZ_RUNS) --targets "$(FUZZ_TARGETS)" \
		--work $(FUZZ_SCRATCH)/work

fuzz-smoke: fuzz-build
	scripts/fuzz.sh --bin "$$($(FUZZ_BUILD) --show-bin-path)" --seconds $(FUZZ_SMOKE_SECONDS) \
		--targets "$(FUZZ_TARGETS)" --work $(FUZZ_SCRATCH)/smoke

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint:
	$(SWIFT) format lint --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-address .build-thread .build-fuzz demo-ledger
