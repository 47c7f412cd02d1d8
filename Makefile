# voxrun: the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/voxrun
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Packages whose tests run in `make test`; bench/ holds benchmarks for `make bench`.
PKGS    := ./...

.PHONY: all build run test test-deps vet bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/voxrun

## run: build and serve on embedded defaults (SQLite + in-memory live state in ./data)
run: build
	./$(BIN) serve

## test-deps: install and start Redis and MariaDB for the tests (idempotent)
test-deps:
	bash scripts/test-deps.sh

## test: every test, with -race, against real Redis and MariaDB
test: test-deps
	$(GO) vet $(PKGS)
	. ./.cache/test-env.sh && $(GO) test -race -count=1 -timeout 15m $(PKGS)

## bench: the benchmarks under bench/ (bounded; figures go to docs/benchmarks.md)
bench: test-deps build
	bash scripts/bench.sh

clean:
	rm -rf bin .cache
