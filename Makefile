# Thin entry points; the build itself is CMake (CMakePresets.json).
#   make test   install dependencies, build (debug: ASan + UBSan), run every test; then build
#               the gateway and store unit tests with ThreadSanitizer (tsan) and run them
#   make test-tsan  only the ThreadSanitizer part
#   make demo   install dependencies, build (release), run the demo
#   make bench-ingest  readings/s, latency and CPU of the ingest against the broker's own ceiling
#   make bench-export  points/s and CPU of the InfluxDB export against InfluxDB's own ceiling
#   make bench-scale-out  readings/s of one gateway against one and two gateways in a share group
#   make bench-fleet   1,000 to 10,000 devices with their own TLS connections: CPU, RSS, reconnect storm
#   make bench-store   commits/s and CPU of the store alone (batches of 1,000 readings from 100 devices)
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-tsan release demo bench-ingest bench-export bench-scale-out bench-fleet bench-store clean

all: build

deps:
	@scripts/install-deps

build: deps
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

release: deps
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

clean:
	rm -rf build .demo
