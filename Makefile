# Seliq — developer commands. `make run` and `make test` are all a newcomer needs.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?=
BENCH_OUT ?= bench/results.txt
SCALE     ?= small
RUNS      ?= 1

.PHONY: run test generate lint lint-api bench bench-go build fuzz tidy-check eval

## run: start the server on the embedded SQLite database (./data/seliq.db)
run:
	$(GO) run ./cmd/seliq serve

## build: compile the seliq binary into bin/
build:
	$(GO) build -o bin/seliq ./cmd/seliq

## test: every test, on SQLite and (when reachable, or required by
## SELIQ_TEST_POSTGRES_URL) on PostgreSQL
test:
	$(GO) test -count=1 -timeout 20m $(TESTFLAGS) $(PKGS)

## eval: the built-in analyst against the expert-labelled evaluation set
## (ai/eval); prints the figures per part and vendor and the worst misses,
## and fails when a figure misses its target
eval:
	$(GO) run ./cmd/seliq-eval -check

## generate: enums, ent (+ entgql schema), then gqlgen; CI fails on any diff
generate:
	cd enum && $(GO) generate
	cd ent && $(GO) run entc.go
	$(GO) tool gqlgen generate
	$(GO) run ./graph/internal/execrewrite graph/generated.go

## lint: formatting, vet and staticcheck (generated packages are not linted)
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $$($(GO) list ./... | grep -v -E '/graph|/ent(/|$$)') ./ent/rule ./ent/schema ./ent/schematype ./graph/internal/execrewrite

## lint-api: lint the REST layer's OpenAPI document with Redocly's CLI
## (pinned; fetched by npx from the npm registry, so it needs Node.js 20.19+
## and is not part of make test). The document is written to bin/openapi.json.
REDOCLY ?= npx --yes @redocly/cli@2.77.0
lint-api:
	@mkdir -p bin
	$(GO) run ./cmd/seliq openapi > bin/openapi.json
	$(REDOCLY) lint --format=stylish bin/openapi.json

## bench: the benchmark harness (cmd/seliq-bench): a server process on a
## fresh database of each kind, loaded at SCALE (small ≈ 10k alerts, medium
## 100k, large 1M: make bench SCALE=large), then ingest, the triage queue,
## facets, bulk close and WebSocket fan-out; RUNS=3 reports medians of
## three fresh runs. The table and its JSON line (last) go to
## bench/results-$(SCALE).txt. See BENCHMARKS.md.
bench:
	@mkdir -p bench
	$(GO) run ./cmd/seliq-bench -scale $(SCALE) -runs $(RUNS) -json | tee bench/results-$(SCALE).txt

## bench-go: the Go micro-benchmarks of the hot paths; figures in $(BENCH_OUT)
bench-go:
	@mkdir -p $(dir $(BENCH_OUT))
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 $(PKGS) | tee $(BENCH_OUT)

## fuzz: run each fuzz target briefly (FUZZTIME=30s by default)
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./rest -run='^$$' -fuzz=FuzzReadBody -fuzztime=$(FUZZTIME)
	$(GO) test ./rest -run='^$$' -fuzz=FuzzConvertInput -fuzztime=$(FUZZTIME)
	$(GO) test ./rest -run='^$$' -fuzz=FuzzQueryFilter -fuzztime=$(FUZZTIME)
	$(GO) test ./rest -run='^$$' -fuzz=FuzzProject -fuzztime=$(FUZZTIME)
	$(GO) test ./rest -run='^$$' -fuzz=FuzzIncludeParam -fuzztime=$(FUZZTIME)
	$(GO) test ./alerts -run='^$$' -fuzz=FuzzPredicates -fuzztime=$(FUZZTIME)
	$(GO) test ./connectors -run='^$$' -fuzz=FuzzValidateSettings -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest -run='^$$' -fuzz=FuzzFingerprint -fuzztime=$(FUZZTIME)
	$(GO) test ./query -run='^$$' -fuzz='^FuzzCompile$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./query -run='^$$' -fuzz=FuzzCompileEvent -fuzztime=$(FUZZTIME)
	$(GO) test ./automation/trigger -run='^$$' -fuzz=FuzzCheckSchedule -fuzztime=$(FUZZTIME)
	$(GO) test ./automation/action -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME)
	$(GO) test ./sla -run='^$$' -fuzz=FuzzParseDuration -fuzztime=$(FUZZTIME)
	$(GO) test ./metrics -run='^$$' -fuzz=FuzzParseInterval -fuzztime=$(FUZZTIME)
	$(GO) test ./cmd/seliq-bench -run='^$$' -fuzz=FuzzParseProcStatCPU -fuzztime=$(FUZZTIME)
	$(GO) test ./metrics -run='^$$' -fuzz=FuzzPercentile -fuzztime=$(FUZZTIME)
	$(GO) test ./dashboard -run='^$$' -fuzz=FuzzParseDocument -fuzztime=$(FUZZTIME)
	$(GO) test ./auth -run='^$$' -fuzz=FuzzAuthorizationHeader -fuzztime=$(FUZZTIME)
	$(GO) test ./analysis -run='^$$' -fuzz=FuzzParsePolicy -fuzztime=$(FUZZTIME)
	$(GO) test ./auth -run='^$$' -fuzz=FuzzVerifyPassword -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest/catalogue -run='^$$' -fuzz=FuzzMap -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest/catalogue -run='^$$' -fuzz=FuzzPollAnswer -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest/entities -run='^$$' -fuzz='FuzzExtract$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest/entities -run='^$$' -fuzz=FuzzExtractJSON -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest/mailin -run='^$$' -fuzz=FuzzInboundMIME -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest/mailin -run='^$$' -fuzz=FuzzInboundParse -fuzztime=$(FUZZTIME)
	$(GO) test ./report/render -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME)
	$(GO) test ./report/render -run='^$$' -fuzz=FuzzRenderPDF -fuzztime=$(FUZZTIME)
	$(GO) test ./report/render -run='^$$' -fuzz=FuzzEscapeInline -fuzztime=$(FUZZTIME)
	$(GO) test ./internal/secrets -run='^$$' -fuzz=FuzzOpen -fuzztime=$(FUZZTIME)
	$(GO) test ./ai/builtin -run='^$$' -fuzz=FuzzAnalyzeAlert -fuzztime=$(FUZZTIME)
	$(GO) test ./ai/provider -run='^$$' -fuzz=FuzzSSE -fuzztime=$(FUZZTIME)
	$(GO) test ./ai/provider -run='^$$' -fuzz=FuzzExtractJSONObject -fuzztime=$(FUZZTIME)
	$(GO) test ./outbound -run='^$$' -fuzz=FuzzCheckURL -fuzztime=$(FUZZTIME)
	$(GO) test ./outbound -run='^$$' -fuzz=FuzzParseRanges -fuzztime=$(FUZZTIME)
	$(GO) test ./analysis -run='^$$' -fuzz=FuzzParseAnswer -fuzztime=$(FUZZTIME)
	$(GO) test ./analysis -run='^$$' -fuzz=FuzzApplyProfile -fuzztime=$(FUZZTIME)
	$(GO) test ./mail -run='^$$' -fuzz=FuzzDefuse -fuzztime=$(FUZZTIME)
	$(GO) test ./mail -run='^$$' -fuzz=FuzzParseAddress -fuzztime=$(FUZZTIME)
	$(GO) test ./chat -run='^$$' -fuzz=FuzzDecodeArgs -fuzztime=$(FUZZTIME)
	$(GO) test ./internal/aifake -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME)
	$(GO) test ./gqlserver/stream -run='^$$' -fuzz=FuzzDecodeMessage -fuzztime=$(FUZZTIME)
	$(GO) test ./gqlserver -run='^$$' -fuzz=FuzzHTTPRequest -fuzztime=$(FUZZTIME)
	$(GO) test ./gqlserver -run='^$$' -fuzz=FuzzResponseMedia -fuzztime=$(FUZZTIME)
	$(GO) test ./internal/textfield -run='^$$' -fuzz=FuzzSanitize -fuzztime=$(FUZZTIME)
	$(GO) test ./security/policy -run='^$$' -fuzz=FuzzApply -fuzztime=$(FUZZTIME)
	$(GO) test ./security/policy -run='^$$' -fuzz=FuzzCheckPassword -fuzztime=$(FUZZTIME)
