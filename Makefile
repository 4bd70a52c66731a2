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
GRPCURL := $(TOOLS)/grpcurl
BIN := $(CURDIR)/bin
GOTEST_FLAGS ?= -count=1 -race -timeout=15m

# Third-party protos, copied from the Go module cache at generate time.
GOOGLEAPIS_MOD := github.com/grpc-ecosystem/grpc-gateway@v1.16.0
PROTOVALIDATE_MOD := github.com/bufbuild/protovalidate@v1.2.2

# The benchmarks' names, as their files register them, for make help.
BENCH_NAMES = $(sort $(shell sed -n 's/.*benchmarks\["\([a-z0-9-]*\)"\].*/\1/p' dev/cmd/abacusdev/bench_*.go))

.PHONY: help
help:
	@echo "usage: make TARGET [VARIABLE=value ...]"
	@echo
	@echo "  run                 build, then the whole system here: PostgreSQL under DATA, four processes, a"
	@echo "                      demo tenant (HOST, GATEWAY_PORT, GRPC_PORT, ADMIN_PORT, PG_PORT, DATA; README)"
	@echo "  test                build, then every test (go test -race) against a throwaway PostgreSQL"
	@echo "  build               customer, ledger, history, gateway and abacusdev into bin/"
	@echo "  bench               build, then every benchmark on a throwaway PostgreSQL; BENCH=NAME runs one of:"
	@echo "                      $(BENCH_NAMES) (bin/abacusdev bench help)"
	@echo "  chaos               build, then kill the ledger and crash PostgreSQL under load, and check that no"
	@echo "                      posting was lost or doubled; CHAOS_FLAGS=-short is CI's form (bin/abacusdev chaos -h)"
	@echo "  generate            regenerate Go and OpenAPI from proto/ (offline)"
	@echo "  check-generate      fail when the committed generated code differs from a fresh generate"
	@echo "  lint                buf lint, buf format check, gofmt, go vet, staticcheck"
	@echo "  breaking            buf breaking (WIRE_JSON) against the previous commit's protos (AGAINST=commit)"
	@echo "  tools               buf and the protoc plugins into .tools/bin (pinned in .tools/*.mod)"
	@echo "  grpcurl             grpcurl into .tools/bin, for calling the services by hand"
	@echo "  docs-assets         fetch Swagger UI (npm) for the gateway's /docs page; build does it"
	@echo "  third-party-protos  copy the googleapis and protovalidate protos into third_party/; generate does it"
	@echo "  soap-clients        install the SOAP clients the e2e tests drive when missing; test does it"
	@echo "  browser             install chromium for the /docs e2e test when missing; test does it"
	@echo "  help                this list"
	@echo
	@echo "Every binary answers --help: bin/customer --help, bin/customer admin --help, bin/abacusdev help."

# --- tools -------------------------------------------------------------------
# Versions are pinned in .tools/*.mod (tool directives, kept out of the
# services' go.mod files); binaries are rebuilt only when a modfile changes.
$(BUF): .tools/buf.mod .tools/buf.sum
	cd .tools && GOWORK=off go build -modfile=buf.mod -o bin/buf github.com/bufbuild/buf/cmd/buf

$(STATICCHECK): .tools/staticcheck.mod .tools/staticcheck.sum
	cd .tools && GOWORK=off go build -modfile=staticcheck.mod -o bin/staticcheck honnef.co/go/tools/cmd/staticcheck

$(KUSTOMIZE): .tools/kustomize.mod .tools/kustomize.sum
	cd .tools && GOWORK=off go build -modfile=kustomize.mod -o bin/kustomize sigs.k8s.io/kustomize/kustomize/v5

# grpcurl, for calling the services by hand (README, "gRPC, directly"):
# make grpcurl, then .tools/bin/grpcurl.
$(GRPCURL): .tools/grpcurl.mod .tools/grpcurl.sum
	@echo "building grpcurl into .tools/bin (pinned in .tools/grpcurl.mod; a minute or two the first time)"
	cd .tools && GOWORK=off go build -modfile=grpcurl.mod -o bin/grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl

.PHONY: grpcurl
grpcurl: $(GRPCURL)

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
# The gateway's API reference page (/docs) serves Swagger UI from npm
# (swagger-ui-dist, pinned by its package-lock.json): fetch.sh runs `npm ci`
# and copies the files into the directory the gateway embeds; nothing
# fetched is committed. It runs again only when the lock file changes, so
# later builds are offline. Without npm the gateway still builds, and /docs
# answers 503.
APIDOCS := gateway/internal/apidocs
$(APIDOCS)/web/vendor/.fetched: $(APIDOCS)/package.json $(APIDOCS)/package-lock.json $(APIDOCS)/fetch.sh
	@echo "fetching Swagger UI for the gateway's /docs page ($(APIDOCS)/fetch.sh: npm ci)"
	@command -v npm >/dev/null && $(APIDOCS)/fetch.sh || \
	  echo "make: $(APIDOCS)/fetch.sh failed or npm is missing; the gateway's /docs will answer 503 until it works" >&2

.PHONY: docs-assets
docs-assets: $(APIDOCS)/web/vendor/.fetched

.PHONY: build
build: docs-assets
	@mkdir -p $(BIN)
	@echo "make build: customer, ledger, history, gateway and abacusdev into bin/ (a minute or two when the Go build cache is cold, as on the first build; seconds after)"
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

# The /docs e2e test opens the page in Debian's headless chromium, installed
# with apt-get when missing and running as root; else that test skips.
.PHONY: browser
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends chromium || \
	      { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; } || \
	      echo "make test: installing chromium failed; the /docs e2e test will skip" >&2; \
	  else echo "make test: chromium is missing and cannot be installed here (not root); the /docs e2e test will skip" >&2; fi; }

.PHONY: test
test: build $(KUSTOMIZE) $(GRPCURL) soap-clients browser
	@echo "make test: go test -race over $(words $(MODULES)) modules against a throwaway PostgreSQL under .data/test (compiling for -race takes a few minutes when the Go build cache is cold; seconds after)"
	KUSTOMIZE=$(KUSTOMIZE) $(BIN)/abacusdev with-postgres --data $(CURDIR)/.data/test -- go test $(GOTEST_FLAGS) $(PKGS)
