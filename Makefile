# The two commands of the README:
#   make dev    start the whole system on embedded defaults
#   make test   set up what the tests need, then run them all

GO ?= go

.PHONY: dev test build vet check bench fuzz fuzz-short chaos

dev:
	$(GO) run ./cmd/duban-dev dev

test: check
	bash deploy/dev/test-deps.sh
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) fuzz-short

# Go's native fuzzing over the API's input checks (JSON decoding, path and
# query parameters). `go test` runs their seeds; these run the fuzzer itself,
# briefly in `make test`, longer on demand (FUZZTIME=10m make fuzz).
FUZZ_TARGETS = FuzzDecodeJSON FuzzQueryParameters
FUZZTIME ?= 2m
fuzz-short:
	@for t in $(FUZZ_TARGETS); do $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime 10s ./api/input || exit 1; done
fuzz:
	@for t in $(FUZZ_TARGETS); do $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./api/input || exit 1; done

# Formatting, vet, and the container image's binary (static, as the Dockerfile builds it).
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/duban ./cmd/duban

# The benchmark at its default sizes (under 15 minutes on 2 cores); writes docs/benchmarks.md.
bench:
	$(GO) run ./cmd/duban-dev bench

# The fault suite's long run (docs/faults.md): the stack as separate
# processes, approval chains through the API over ten minutes while a
# worker, an API process and the Temporal server are killed (SIGKILL) and
# PostgreSQL is restarted, in turn; then every decision is checked. The
# short run is part of `make test` (internal/chaos).
CHAOS_FLAGS ?= --chains 600 --concurrency 8 --duration 10m --fault-every 5s
chaos:
	$(GO) run ./cmd/duban-dev chaos $(CHAOS_FLAGS)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/duban ./cmd/duban
