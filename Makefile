# Cairn — the two set-up commands are `make demo` and `make test` (see README.md).
#
#   make demo      install missing system packages, build, and run the end-to-end demo
#   make test      install missing system packages, check formatting, build, and run the test suite
#   make interop   also install Go + golang.org/x/mod so the Go interop tests run (CI does this)
#   make soak      build a release binary and SIGKILL `cairn serve` 100 times under load (docs/reliability.md)
#   make soak-smoke  the short soak CI runs after `make test` (5 kills, well under a minute)
#   make sanitize-address  the test suite under AddressSanitizer + LeakSanitizer (own build in .build-address)
#   make sanitize-thread   the test suite under ThreadSanitizer (own build in .build-thread)
#   make format    apply `swift format` to Sources/ and Tests/
#   make lint      check formatting without changing files

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps interop-deps build release demo test interop soak soak-smoke sanitize-address sanitize-thread format lint clean

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

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: build
	@scripts/demo.sh "$$($(SWIFT) build --show-bin-path)/cairn"

test: deps lint
	$(SWIFT) test

interop: deps interop-deps
	$(SWIFT) test --filter Interop

# The soak (docs/reliability.md, "Soak"); extra options go in SOAK_ARGS, e.g. SOAK_ARGS="--kills 200 --keep".
SOAK_ARGS ?=

soak: release
	scripts/soak.sh --cairn "$$($(SWIFT) build -c release --show-bin-path)/cairn" $(SOAK_ARGS)

soak-smoke: build
	scripts/soak.sh --smoke --cairn "$$($(SWIFT) build --show-bin-path)/cairn" $(SOAK_ARGS)

# The test suite under a sanitizer (docs/reliability.md, "Sanitizers"); extra `swift test` options
# go in SANITIZE_ARGS, e.g. SANITIZE_ARGS="--filter IngestEngine". Run one at a time: each is a
# full instrumented build of its own.
SANITIZE_ARGS ?=

sanitize-address: deps
	SWIFT=$(SWIFT) scripts/sanitizers/run.sh address $(SANITIZE_ARGS)

sanitize-thread: deps
	SWIFT=$(SWIFT) scripts/sanitizers/run.sh thread $(SANITIZE_ARGS)

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint:
	$(SWIFT) format lint --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-address .build-thread demo-ledger
