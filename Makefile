# Thin entry points; the build itself is CMake (CMakePresets.json).
#   make test   install dependencies, build (debug: ASan + UBSan), run every test
#   make demo   install dependencies, build (release), run the demo
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: all deps build test release demo clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

test: build
	@ctest --preset debug -j $(JOBS)

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

demo: release
	@scripts/demo

clean:
	rm -rf build .demo
