# Abacus: one Makefile drives every module of the go.work workspace.
#   make run             the whole system on a local PostgreSQL under .data/
#   make test            every test against a throwaway PostgreSQL
#   make generate        regenerate Go and OpenAPI from proto/ (offline)
#   make check-generate  fail when committed generated code differs
#   make lint            buf lint, buf format check, gofmt, go vet, staticcheck
#   make breaking        buf breaking (WIRE_JSON) against the previous commit's protos
#   make bench           benchmarks of the running system (figures in README)
#   make chaos           kill the ledger and crash PostgreSQL under load, then check
#                        that no posting was lost or doubled (CHAOS_FLAGS=-short: CI's form)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The workspace's modules, from go.work (`go list -m`), relative to here.
MODULES := $(patsubst $(CURDIR)/%,%,$(shell go list -m -f '{{.Dir}}'))
PKGS := $(addprefix ./,$(addsuffix /...,$(MODULES)))
TOOLS := $(CURDIR)/.tools/bin
BUF := $(TOOLS)/buf
KUSTOMIZE := $(TOOLS)/kustomize
STATICCHECK := $(TOOLS)/staticcheck
BIN := $(CURDIR)/bin
GOTEST_FLAGS ?= -count=1 -race -timeout=15m

# Third-party protos, copied from the Go module cache at generate time.
GOOGLEAPIS_MOD := github.com/grpc-ecosystem/grpc-gateway@v1.16.0
PROTOVALIDATE_MOD := github.com/bufbuild/protovalidate@v1.2.2

.PHONY: help
help:
	@echo "make run | test | generate | check-generate | lint | breaking | bench | chaos | build | tools"

# --- tools -------------------------------------------------------------------
# Versions are pinned in .tools/*.mod (tool directives, kept out of the
# services' go.mod files); binaries are rebuilt only when a modfile changes.
$(BUF): .tools/buf.mod .tools/buf.sum
	cd .tools && GOWORK=off go build -modfile=buf.mod -o bin/buf github.com/bufbuild/buf/cmd/buf

$(STATICCHECK): .tools/staticcheck.mod .tools/staticcheck.sum
	cd .tools && GOWORK=off go build -modfile=staticcheck.mod -o bin/staticcheck honnef.co/go/tools/cmd/staticcheck

$(KUSTOMIZE): .tools/kustomize.mod .tools/kustomize.sum
	cd .tools && GOWORK=off go build -modfile=kustomize.mod -o bin/kustomize sigs.k8s.io/kustomize/kustomize/v5

$(TOOLS)/.plugins: .tools/plugins.mod .tools/plugins.sum
	cd .tools && GOWORK=off go build -modfile=plugins.mod -o bin/ \
		google.golang.org/protobuf/cmd/protoc-gen-go \
		google.golang.org/grpc/cmd/protoc-gen-go-grpc \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2
	touch $@

.PHONY: tools
tools: $(BUF) $(TOOLS)/.plugins

.PHONY: third-party-protos
third-party-protos:
	@rm -rf third_party && mkdir -p third_party/googleapis/google/api third_party/protovalidate/buf/validate
	@gapi=$$(cd /tmp && GOWORK=off GOFLAGS=-mod=mod go mod download -json $(GOOGLEAPIS_MOD) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	pv=$$(cd /tmp && GOWORK=off GOFLAGS=-mod=mod go mod download -json $(PROTOVALIDATE_MOD) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	test -n "$$gapi" && test -n "$$pv"; \
	install -m 0644 $$gapi/third_party/googleapis/google/api/{annotations,http,httpbody}.proto third_party/googleapis/google/api/; \
	install -m 0644 $$pv/proto/protovalidate/buf/validate/validate.proto third_party/protovalidate/buf/validate/

# --- code generation ---------------------------------------------------------
.PHONY: generate
generate: tools third-party-protos
	rm -rf proto/gen proto/openapi/*.swagger.json
	PATH="$(TOOLS):$$PATH" $(BUF) generate --path proto/abacus
	$(BUF) format -w proto

.PHONY: check-generate
check-generate: generate
	@if [ -n "$$(git status --porcelain -- proto)" ]; then \
		echo "generated code differs from a fresh 'make generate':"; git status --porcelain -- proto; git diff --stat -- proto; exit 1; \
	fi
	@echo "generated code matches"

# --- breaking changes --------------------------------------------------------
# buf breaking (WIRE_JSON, buf.yaml) against the protos of the previous
# commit, exported from git into a temporary directory: offline, and on a
# clean clone. AGAINST=<commit> compares with another commit.
AGAINST ?= HEAD~1

.PHONY: breaking
breaking: $(BUF) third-party-protos
	@if ! git cat-file -e '$(AGAINST):proto' 2>/dev/null; then \
		echo "buf breaking: skipped, $(AGAINST) has no proto/ to compare with (first commit, or a shallow clone)"; exit 0; \
	fi; \
	prev=$$(mktemp -d); trap 'rm -rf "$$prev"' EXIT; \
	git archive '$(AGAINST)' proto | tar -x -C "$$prev"; \
	cp -R buf.yaml third_party "$$prev"/; \
	echo "buf breaking against $$(git rev-parse --short '$(AGAINST)')"; \
	$(BUF) breaking --against "$$prev"

# --- lint --------------------------------------------------------------------
.PHONY: lint
lint: tools third-party-protos $(STATICCHECK)
	$(BUF) lint
	$(BUF) format --diff --exit-code proto
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	go vet $(PKGS)
	$(STATICCHECK) $(PKGS)

# --- build, run, test --------------------------------------------------------
.PHONY: build
build:
	@mkdir -p $(BIN)
	go build -o $(BIN)/ ./services/customer/cmd/customer ./services/ledger/cmd/ledger \
		./services/history/cmd/history ./gateway/cmd/gateway ./dev/cmd/abacusdev

# Where make run listens, and where it keeps its cluster and logs: change
# them on the command line (make run HOST=0.0.0.0 GATEWAY_PORT=8180). A port
# that is taken gives way to the next free one.
HOST ?= 127.0.0.1
GATEWAY_PORT ?= 8080
GRPC_PORT ?= 9091
ADMIN_PORT ?= 9190
PG_PORT ?= 54329
DATA ?= $(CURDIR)/.data

.PHONY: run
run: build
	$(BIN)/abacusdev run --bin $(BIN) --data $(DATA) --host $(HOST) --gateway-port $(GATEWAY_PORT) \
		--grpc-port $(GRPC_PORT) --admin-port $(ADMIN_PORT) --pg-port $(PG_PORT)

# Benchmarks start the whole system on a throwaway PostgreSQL; BENCH=name
# runs one of them (see `bin/abacusdev bench help`).
.PHONY: bench
bench: build
	$(BIN)/abacusdev bench $(BENCH)

# The chaos run (README, "Chaos"): CHAOS_FLAGS="-short" is the form CI runs;
# see `bin/abacusdev chaos -h` for the other flags.
.PHONY: chaos
chaos: build
	$(BIN)/abacusdev chaos --bin $(BIN) $(CHAOS_FLAGS)

# The SOAP e2e tests drive real clients: PHP's SoapClient (php-cli,
# php-soap), zeep (python3-zeep) and Mono's wsdl, mcs and mono (mono-devel),
# installed with apt-get when missing and running as root; and node-soap,
# installed by `npm ci` from its pinned package-lock.json when its
# node_modules lacks it. Else those tests skip, saying so loudly.
SOAP_CLIENT_PKGS := php-cli php-soap python3-zeep mono-devel
SOAP_NODE_DIR := gateway/e2e/testdata/soap/node
.PHONY: soap-clients
soap-clients:
	@{ php -m 2>/dev/null | grep -qx soap && /usr/bin/python3 -c 'import zeep' 2>/dev/null && \
	  command -v wsdl >/dev/null && command -v mcs >/dev/null && command -v mono >/dev/null; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends $(SOAP_CLIENT_PKGS) || \
	      { apt-get update -q && apt-get install -y -q --no-install-recommends $(SOAP_CLIENT_PKGS); } || \
	      echo "make test: installing $(SOAP_CLIENT_PKGS) failed; the SOAP e2e tests will skip" >&2; \
	  else echo "make test: a SOAP client (PHP SoapClient, zeep, Mono) is missing and cannot be installed here (not root); the SOAP e2e tests will skip" >&2; fi; }
	@[ -f $(SOAP_NODE_DIR)/node_modules/soap/package.json ] || { \
	  if command -v npm >/dev/null; then \
	    (cd $(SOAP_NODE_DIR) && npm ci --no-audit --no-fund) || \
	      echo "make test: npm ci in $(SOAP_NODE_DIR) failed; the node-soap e2e test will skip" >&2; \
	  else echo "make test: npm is missing; the node-soap e2e test will skip" >&2; fi; }

.PHONY: test
test: build $(KUSTOMIZE) soap-clients
	KUSTOMIZE=$(KUSTOMIZE) $(BIN)/abacusdev with-postgres --data $(CURDIR)/.data/test -- go test $(GOTEST_FLAGS) $(PKGS)
