# azsim — see README.md. Every target installs what it needs from the Go
# module proxy; nothing else is downloaded.
GO          ?= go
STATE_DIR   ?= $(HOME)/.local/state/azsim
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT  ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
TEST_FLAGS  ?= -race -timeout 15m
FUZZTIME    ?= 10s
BENCH_FLAGS ?=

.PHONY: all build run test e2e kind-node-image bench fuzz load lint fmt

all: build

build: ## build bin/azsim
	$(GO) build -o bin/azsim ./cmd/azsim

run: build ## run the simulator with its default world
	./bin/azsim up --state-dir $(STATE_DIR)

test: ## the default test tier (no Docker needed)
	$(GO) test $(TEST_FLAGS) ./...

e2e: ## kind tier: Docker engine, node image (stock or offline, chosen and printed), TestIntegration… (build tag integration)
	bash hack/docker-bootstrap.sh
	image=$$($(GO) run ./hack/kind-node-image -auto) && \
	AZSIM_KIND_NODE_IMAGE="$$image" $(GO) test -count=1 -tags integration -timeout 60m -run TestIntegration -v ./...

kind-node-image: ## build the offline kind node image (no container registry; cached by content)
	$(GO) run ./hack/kind-node-image

bench: build ## one Markdown table + bench/results.json, every ratio measured in the same run (2 cores: ~4 min)
	$(GO) run ./bench -azsim bin/azsim -json bench/results.json $(BENCH_FLAGS)

# Fuzz targets as package:Target; each runs for FUZZTIME.
FUZZ_TARGETS = \
	./internal/platform/jwtx:FuzzParse \
	./fakeacr:FuzzRegistryBearer \
	./fakeaad:FuzzTokenEndpoint \
	./fakeaad:FuzzClientAssertion \
	./fakeacr:FuzzParseScope \
	./fakeacr/internal/ocistore:FuzzManifestPut \
	./fakeimds:FuzzParseTokenQuery \
	./world:FuzzParse \
	./world:FuzzParseCondition \
	./internal/clients/credprovider:FuzzReadRequest \
	./internal/middleware/faults:FuzzRule \
	./sim:FuzzAdminOrigin

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "== $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

load: ## 200 concurrent clients, mixed flows and pulls against azsim up for 60 s
	AZSIM_LOAD=1 $(GO) test -run TestLoadMixedFlows -v -timeout 10m ./internal/systest

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	GOFLAGS= $(GO) run $(ACTIONLINT) .github/workflows/*.yml

fmt:
	gofmt -w .
