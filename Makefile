# SPDX-License-Identifier: GPL-2.0-only
# Thin wrapper over CMake/ctest. Targets: all, demo, check, bench, fuzz, deps,
# format, install, clean. Binaries land in build/bin/; make install puts
# steerd, steerctl, their man pages and steerd.service under PREFIX
# (default /usr/local), inside DESTDIR when given.
BUILD ?= build
CC := clang
CMAKE_FLAGS ?=
ifneq ($(CI),)
CMAKE_FLAGS += -DSTEER_WERROR=ON
endif
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build demo check bench format install clean fuzz

all: build

# Installs missing Debian packages; a no-op when all are present.
deps:
	@bash scripts/deps.sh

$(BUILD)/Makefile: CMakeLists.txt cmake/tests.cmake cmake/install.cmake | deps
	CC=$(CC) cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Each fuzz target for FUZZ_SECONDS (default 60), or FUZZ_RUNS executions;
# FUZZ_MERGE=1 keeps what they found in tests/fuzz/corpus/.
FUZZ_SECONDS ?= 60
fuzz: build
	bash scripts/fuzz.sh --build $(BUILD) \
		$(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS),--seconds $(FUZZ_SECONDS)) \
		$(if $(FUZZ_MERGE),--merge)

bench: build
	$(BUILD)/bin/steer-bench

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
