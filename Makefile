# CacheLoad — the two commands: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
SWIFT ?= swift
SERVICES := scripts/services
CONFIG ?= debug

.PHONY: all build release test demo bench soak bootstrap services-start services-stop clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c $(CONFIG)

release: bootstrap
	$(SWIFT) build -c release

# bootstrap → services start → build → test → services stop (also when a step fails).
test: bootstrap
	@$(SERVICES) stop >/dev/null 2>&1 || true
	@$(SERVICES) start >/dev/null
	@status=0; \
	{ $(SWIFT) build --build-tests && $(SWIFT) test --no-parallel; } || status=$$?; \
	$(SERVICES) stop >/dev/null; \
	exit $$status

demo: bootstrap
	@echo "make demo: the end-to-end demo arrives with the server, load generator and exporter."
	@echo "For now it checks that the services start and the package builds."
	@$(SERVICES) stop >/dev/null 2>&1 || true
	@$(SERVICES) start >/dev/null
	@status=0; $(SWIFT) build || status=$$?; $(SERVICES) stop >/dev/null; exit $$status

# Benchmarks against real peers, side by side in one run: ratios, not absolute numbers.
bench: bootstrap
	scripts/bench/server.sh
	scripts/bench/loadgen.sh

soak: test

services-start:
	@$(SERVICES) start

services-stop:
	@$(SERVICES) stop

clean:
	rm -rf .build
