# The two commands of the README:
#   make dev    start the whole system on embedded defaults
#   make test   set up what the tests need, then run them all

GO ?= go

.PHONY: dev test build vet check bench

dev:
	$(GO) run ./cmd/duban-dev dev

test: check
	bash deploy/dev/test-deps.sh
	$(GO) test -count=1 -timeout 30m ./...

# Formatting, vet, and the container image's binary (static, as the Dockerfile builds it).
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/duban ./cmd/duban

# The benchmark at its default sizes (under 15 minutes on 2 cores); writes docs/benchmarks.md.
bench:
	$(GO) run ./cmd/duban-dev bench

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/duban ./cmd/duban
