# Thin entry points; the build itself is CMake (CMakePresets.json).
#   make test   install dependencies, build (debug: ASan + UBSan), run every test; then build
#               the gateway and store unit tests with ThreadSanitizer (tsan) and run them
#   make test-tsan  only the ThreadSanitizer part
#   make demo   install dependencies, build (release), run the demo
#   make web    the web dashboard: npm ci (when web/package-lock.json changed), type check and bundle
#               into web/dist (when web/src changed) (docs/dashboard.md); `make build`, `release`,
#               `test` and `demo` do it too
#   make bench-ingest  readings/s, latency and CPU of the ingest against the broker's own ceiling, and
#               of devices posting over HTTPS against the same devices over MQTT (MODES=https: only that)
#   make bench-export  points/s and CPU of the InfluxDB export against InfluxDB's own ceiling
#   make bench-scale-out  readings/s of one gateway against one and two gateways in a share group
#   make bench-fleet   1,000 to 10,000 devices with their own TLS connections: CPU, RSS, reconnect storm
#   make bench-store   commits/s and CPU of the store alone (batches from devices that coalesce, and from a fleet of single-reading devices)
#   make bench-query   a dashboard query (one device, a year, ~1,000 points) in the store, through the
#               HTTPS API and in InfluxDB, over a year of one-minute readings from 100 devices
#   make bench-alerts  one evaluation of the alert rules, and a storm of transitions, for 1,000 and 10,000 devices
#   make bench-ota     500 devices downloading a 2 MiB firmware image at once over mutual TLS from the
#               gateway, against Debian's nginx serving the same file (installs nginx-light for it)
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: all deps web build test test-tsan release demo bench-ingest bench-export bench-scale-out bench-fleet bench-store bench-query bench-ota bench-alerts clean

all: build

deps:
	@scripts/install-deps

# The dashboard's packages are exactly those of web/package-lock.json (npm ci), installed again only
# when the lock file or package.json changed, and none runs an install script (esbuild's only
# checks its binary, which works without it). The C++ build never needs Node.
WEB_PACKAGES := web/node_modules/.kelvin-npm-ci

$(WEB_PACKAGES): web/package-lock.json web/package.json | deps
	@cd web && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

# Type check and bundle again only when a source changed (dist/ is emptied and rebuilt whole).
WEB_SOURCES := $(shell find web/src -type f) web/build.mjs web/tsconfig.json

web/dist/index.html: $(WEB_SOURCES) $(WEB_PACKAGES)
	@cd web && npm run --silent build

web: deps web/dist/index.html

build: deps web
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

# ThreadSanitizer cannot share a build with ASan, so the concurrent parts (the gateway's ingest,
# exporter and peer sync; the store) get a build of their own: only those two test programs.
define run_tsan
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS)
	@# Without address-space randomisation: GCC 12's ThreadSanitizer refuses the memory layout of
	@# kernels with vm.mmap_rnd_bits above 28 ("unexpected memory mapping").
	@setarch $$(uname -m) -R ctest --preset tsan -j $(JOBS)
endef

test: build
	@ctest --preset debug -j $(JOBS)
	$(run_tsan)

test-tsan: deps
	$(run_tsan)

release: deps web
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

demo: release
	@scripts/demo

# Benchmarks: figures for docs/benchmarks.md, not tests (nothing is asserted).
bench-ingest: release
	@bench/ingest/run

bench-export: release
	@bench/export/run

bench-scale-out: release
	@bench/scale-out/run

bench-fleet: release
	@bench/fleet/run

bench-store: release
	@build/release/bin/store_bench

bench-query: release
	@bench/query/run

bench-ota: release
	@bench/ota/run

bench-alerts: release
	@build/release/bin/alerts_bench

clean:
	rm -rf build .demo web/dist
