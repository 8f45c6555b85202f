# CacheLoad — the two commands: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
SWIFT ?= swift
SERVICES := scripts/services
CONFIG ?= debug

.PHONY: all build release package test terraform-check boot-root demo bench bench-long soak fuzz sanitize bootstrap services-start services-stop clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c $(CONFIG)

release: bootstrap
	$(SWIFT) build -c release

# The release tarball Terraform installs on EC2 (bin/cacheload, Swift runtime linked in).
package: bootstrap
	scripts/package

# Checks of terraform/: python-hcl2 parse, checkov, fmt, validate, terraform test (mock provider);
# then an apply and destroy against a local AWS (moto_server), which needs a built binary, with
# each origin (db_engine postgres, then mysql), and each apply's user data booted in Debian 12.
terraform-check: bootstrap boot-root
	@scripts/terraform/check
	$(SWIFT) build --product cacheload
	scripts/terraform/apply-and-boot "$$($(SWIFT) build --show-bin-path)/cacheload" $(USER_DATA)
	CACHELOAD_USER_DATA_OUT=$(USER_DATA).mysql scripts/terraform/apply-local --mysql "$$($(SWIFT) build --show-bin-path)/cacheload"
	scripts/terraform/boot-check --mysql $(USER_DATA).mysql "$$($(SWIFT) build --show-bin-path)/cacheload"

# bootstrap (system packages) → in the background from the start: the checkers' virtualenvs,
# terraform's static checks and mock-provider plans, then the Debian 12 root; meanwhile services start and the binary builds → then, beside the test
# build, the README's examples and the fuzz smokes: terraform apply/destroy against a local AWS
# and the instance's user data booted in that root (scripts/terraform/apply-and-boot: its own
# moto and databases) → tests → services stop (also on failure). Each background job's log is
# printed when it is waited for; its failure fails the run.
USER_DATA := .build/terraform-user-data.sh
PREP_LOG := .build/terraform-check.log
AWS_LOG := .build/apply-and-boot.log
test:
	@scripts/bootstrap --system
	@mkdir -p .build; status=0; aws=; bin="$$($(SWIFT) build --show-bin-path)"; \
	stage() { echo "make test: $$1 at +$$SECONDS s"; }; \
	{ scripts/bootstrap --venvs && scripts/terraform/check && scripts/terraform/boot-root; } >$(PREP_LOG) 2>&1 & prep=$$!; \
	$(SERVICES) stop >/dev/null 2>&1; \
	{ $(SERVICES) start --cluster >/dev/null && stage "services started" && \
	  $(SWIFT) build --product cacheload && stage "cacheload built" && \
	  { wait $$prep; prep_status=$$?; prep=; cat $(PREP_LOG); test $$prep_status -eq 0; } && stage "terraform checks and Debian root done" && \
	  { scripts/terraform/apply-and-boot "$$bin/cacheload" $(USER_DATA) >$(AWS_LOG) 2>&1 & aws=$$!; } && \
	  $(SWIFT) build --build-tests && stage "tests built" && \
	  scripts/readme-check "$$bin/cacheload" && stage "README examples done" && \
	  FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) scripts/fuzz && stage "fuzz smokes done" && \
	  { wait $$aws; aws_status=$$?; aws=; cat $(AWS_LOG); test $$aws_status -eq 0; } && stage "apply-and-boot done" && \
	  $(SWIFT) test --no-parallel && stage "tests done"; } || status=$$?; \
	if [[ -n $$prep ]]; then wait $$prep; cat $(PREP_LOG); fi; \
	if [[ -n $$aws ]]; then wait $$aws; cat $(AWS_LOG); fi; \
	$(SERVICES) stop >/dev/null; \
	exit $$status

# libFuzzer over every parser of outside bytes (Fuzz/, seed corpora in Fuzz/corpus/): each
# target for FUZZ_SECONDS; `make test` runs each for a short smoke so a new crash fails CI.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz

# ThreadSanitizer over the concurrent suites (a build of its own in .build-tsan: every module
# instrumented), against the real services. Data races, lock-order inversions and use after
# free fail the run. "Swift access race" reports are listed but do not: this toolchain reports
# one for every Synchronization.Mutex.withLock on a `let` from two threads (an 11-line program
# with 4 threads adding 10,000 times each under a Mutex gets one, and the exact total 40,000).
SANITIZE_SUITES ?= CacheAsideTests|LeaseStoreTests|CircuitBreakerTests|ConnectionSlotStateMachineTests|RedisClientTests|LoadEngineTests|SocketTransportTests|PoolStateMachineTests|PostgresClientTests|NearCacheBoundsTests
SANITIZE_LOG := .build-tsan/sanitize.log
sanitize: bootstrap
	@$(SERVICES) stop >/dev/null 2>&1 || true
	@$(SERVICES) start >/dev/null
	@set -o pipefail; status=0; \
	{ $(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan && \
	  TSAN_OPTIONS=halt_on_error=0 $(SWIFT) test --sanitize=thread --scratch-path .build-tsan --skip-build --no-parallel \
	    --filter '$(SANITIZE_SUITES)' 2>&1 | tee $(SANITIZE_LOG) && \
	  echo "sanitize: $$(grep -c 'WARNING: ThreadSanitizer: Swift access race' $(SANITIZE_LOG)) Swift access race reports (Mutex, see above)" && \
	  ! grep -E 'WARNING: ThreadSanitizer: (data race|lock-order|heap-use-after-free|thread leak)' $(SANITIZE_LOG); } || status=$$?; \
	$(SERVICES) stop >/dev/null; \
	exit $$status

# The Debian 12 root the boot check runs the instance's user data in (debootstrap; cached in
# .tools/, made again when missing or a month old).
boot-root: bootstrap
	@scripts/terraform/boot-root

# bootstrap → services start → release build → cacheload demo → services stop (also on failure or Ctrl-C).
demo: bootstrap
	@$(SERVICES) stop >/dev/null 2>&1 || true
	@$(SERVICES) start >/dev/null
	@status=0; trap '$(SERVICES) stop >/dev/null' EXIT INT TERM; \
	{ $(SWIFT) build -c release --product cacheload && \
	  set -a && . ./.services.env && set +a && \
	  "$$($(SWIFT) build -c release --show-bin-path)/cacheload" demo $(if $(filter mysql,$(DB)),--origin "$$MYSQL_URL") $(DEMO_ARGS); } || status=$$?; \
	exit $$status

# Benchmarks against real peers, side by side in one run: ratios, not absolute numbers.
bench: bootstrap
	scripts/bench/server.sh
	scripts/bench/hit-path.sh
	scripts/bench/loadgen.sh
	scripts/bench/cache-status.sh
	scripts/bench/cluster.sh
	scripts/bench/fleet.sh
	scripts/bench/origin-amplification.sh
	scripts/bench/balancer.sh
	scripts/bench/http2.sh
	scripts/bench/mysql-origin.sh
	scripts/bench/mysql-client-modes.sh

# A 10-minute constant-rate run: the load generator's memory stays flat and its CPU per second
# the same at minute 10 as at minute 2.
bench-long: bootstrap
	scripts/bench/long-run.sh

# The long versions of the fault and soak tests: 1000 connections and a CloudWatch outage for
# SOAK_SECONDS each (60 by default), then every fault under load again.
SOAK_SECONDS ?= 60
soak: bootstrap
	@$(SERVICES) stop >/dev/null 2>&1 || true
	@$(SERVICES) start >/dev/null
	@status=0; \
	{ $(SWIFT) build --build-tests && \
	  CACHELOAD_SOAK_SECONDS=$(SOAK_SECONDS) $(SWIFT) test --no-parallel --filter FaultTests; } || status=$$?; \
	$(SERVICES) stop >/dev/null; \
	exit $$status

services-start:
	@$(SERVICES) start

services-stop:
	@$(SERVICES) stop

clean:
	rm -rf .build
