# azsim — see README.md. Every target installs what it needs from the Go
# module proxy; nothing else is downloaded.
GO          ?= go
STATE_DIR   ?= $(HOME)/.local/state/azsim
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_FLAGS  ?= -race -timeout 15m

.PHONY: all build run test e2e bench lint fmt

all: build

build: ## build bin/azsim
	$(GO) build -o bin/azsim ./cmd/azsim

run: build ## run the simulator with its default world
	./bin/azsim up --state-dir $(STATE_DIR)

test: ## the default test tier (no Docker needed)
	$(GO) test $(TEST_FLAGS) ./...

e2e: ## integration tests that need Docker/kind (TestIntegration…)
	$(GO) test -timeout 60m -run TestIntegration -v ./...

bench: ## benchmarks (ratios measured in one run)
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w .
