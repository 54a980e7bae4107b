# pxeforge — see README.md. `make`, `make check`, `make demo`, `make install`.
#
#   make               build/pxeforge (objects in build/obj/)
#   make san           build/san/pxeforge (ASan + UBSan, objects in build/san/obj/)
#   make unit-tests    build/san/tests/test_* from tests/unit/test_*.c
#                      (all three embed cloud-init/ through build/gen/fragments.c,
#                      written by scripts/embed.sh)
#   make check         scripts/deps.sh, all of the above, then tests/run.sh
#   make demo          scripts/deps.sh, build, then build examples/c4140.yaml into out/
#   make demo-boot     scripts/deps.sh, build, then build the boot test's Intel host
#                      (tests/e2e/profiles/intel.yaml.in) into out/demo-boot/ and netboot
#                      it in QEMU with its serial console on this terminal: iPXE, kernel,
#                      initrd, the guest's report (edu device bound to vfio-pci), power off
#   make bench         bench/packaging.sh: pxeforge against tar+sha256sum, tar|gzip,
#                      tar|zstd and the openssl hash floor on a 2 GiB input (a report,
#                      not a test; not part of make check; BENCH_* variables in the script)
#   make bench-fleet   bench/fleet.sh: check, render and build of generated 1,000- and
#                      10,000-host inventories against the tar -xf && sync I/O floor,
#                      rebuilds, verdicts against issue 15's targets (a report;
#                      BENCH_FLEET_ARGS="--quick" or sizes, BENCH_* in the script)
#   make docs          docs/profile.md and man/pxeforge-profile.5 from docs/profile.md.in
#                      and the key tables (`pxeforge schema`), by scripts/profile-doc.py
#   make install       bin/pxeforge, share/man/man1/pxeforge.1 and (when the tree
#                      has it) share/man/man5/pxeforge-profile.5 below
#                      $(DESTDIR)$(PREFIX); PREFIX=/usr/local
#   make clean         remove build/ and out/
#   V=1                show the full compiler command lines
PKGS      := yaml-0.1 jansson libarchive libcurl libcrypto libkmod libxml-2.0
CC        ?= cc
CFLAGS    ?= -O2 -g
PREFIX    ?= /usr/local
DESTDIR   ?=

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Flags every build needs; CFLAGS (user-overridable) comes after so that
# `make CFLAGS=-O0` still builds with the project's warnings and includes.
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -Werror -Iinclude $(PKG_CFLAGS)
DEPFLAGS    := -MMD -MP
ALL_CFLAGS   = $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS)

SAN_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
SAN_CFLAGS   = $(BASE_CFLAGS) $(CPPFLAGS) $(SAN_FLAGS)
# cmocka test functions take `void **state` that most tests never use.
TEST_CFLAGS  = $(SAN_CFLAGS) -Itests/unit -Ibuilder -Wno-unused-parameter

SRCS         := $(sort $(wildcard builder/*/*.c))
LIB_SRCS     := $(filter-out builder/cli/main.c,$(SRCS))

# cloud-init/ is embedded: scripts/embed.sh turns its files into
# build/gen/fragments.c (fragment_get(), include/pxeforge/lib/fragments.h).
FRAG_FILES   := $(sort $(shell find cloud-init -type f 2>/dev/null))
GEN_SRC      := build/gen/fragments.c
GEN_OBJ      := build/obj/gen/fragments.o
GEN_SAN_OBJ  := build/san/obj/gen/fragments.o

OBJS         := $(SRCS:builder/%.c=build/obj/%.o) $(GEN_OBJ)
LIB_OBJS     := $(LIB_SRCS:builder/%.c=build/obj/%.o) $(GEN_OBJ)
SAN_OBJS     := $(SRCS:builder/%.c=build/san/obj/%.o) $(GEN_SAN_OBJ)
SAN_LIB_OBJS := $(LIB_SRCS:builder/%.c=build/san/obj/%.o) $(GEN_SAN_OBJ)

TEST_SRCS    := $(sort $(wildcard tests/unit/test_*.c))
TEST_OBJS    := $(TEST_SRCS:tests/unit/%.c=build/san/tests/obj/%.o)
TEST_BINS    := $(TEST_SRCS:tests/unit/%.c=build/san/tests/%)

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

all: build/pxeforge

san: build/san/pxeforge

unit-tests: $(TEST_BINS)

build/pxeforge: $(OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS) $(LDLIBS)

build/san/pxeforge: $(SAN_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(SAN_CFLAGS) $(LDFLAGS) -o $@ $(SAN_OBJS) $(PKG_LIBS) $(LDLIBS)

build/obj/%.o: builder/%.c Makefile
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

build/san/obj/%.o: builder/%.c Makefile
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# The list of embedded files, rewritten only when it changes, so that a
# fragment added or removed also regenerates build/gen/fragments.c.
build/gen/fragments.list: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf '%s\n' $(FRAG_FILES) | cmp -s - $@ || printf '%s\n' $(FRAG_FILES) >$@

$(GEN_SRC): scripts/embed.sh build/gen/fragments.list $(FRAG_FILES)
	$(quiet) GEN $@
	$(Q)sh scripts/embed.sh cloud-init $@

$(GEN_OBJ): $(GEN_SRC) Makefile
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(GEN_SAN_OBJ): $(GEN_SRC) Makefile
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_CFLAGS) $(DEPFLAGS) -c -o $@ $<

build/san/tests/obj/%.o: tests/unit/%.c Makefile
	$(quiet) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(TEST_BINS): build/san/tests/%: build/san/tests/obj/%.o $(SAN_LIB_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(SAN_LIB_OBJS) -lcmocka $(PKG_LIBS) $(LDLIBS)

# Dependencies are installed first, then the build runs in a fresh make so
# that pkg-config sees the just-installed libraries. A build failure does not
# stop the tests that can still run; tests/run.sh reports it as a failure.
check:
	@scripts/deps.sh
	@st=0; $(MAKE) --no-print-directory -k build/pxeforge build/san/pxeforge unit-tests || st=$$?; \
	 PXEFORGE_BUILD_STATUS=$$st tests/run.sh

demo:
	@scripts/deps.sh
	@$(MAKE) -s --no-print-directory build/pxeforge
	@chmod 600 examples/demo-cluster.key  # git checks it out 0644; pxeforge refuses that
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-0} build/pxeforge build examples/c4140.yaml -o out
	@echo
	@find out -type f | sort
	@echo
	@echo "demo: iPXE script for c4140: out/c4140/netboot.ipxe"
	@echo "demo: its kernel command line: out/c4140/cmdline"

demo-boot:
	@scripts/deps.sh
	@$(MAKE) -s --no-print-directory build/pxeforge
	@PXEFORGE=build/pxeforge tests/e2e/demo-boot.sh out/demo-boot

bench:
	@scripts/deps.sh
	@$(MAKE) -s --no-print-directory build/pxeforge
	@bench/packaging.sh

bench-fleet:
	@scripts/deps.sh
	@$(MAKE) -s --no-print-directory build/pxeforge
	@bench/fleet.sh $(BENCH_FLEET_ARGS)

docs: build/pxeforge
	$(Q)mkdir -p build/gen
	$(Q)build/pxeforge schema >build/gen/profile.schema.json
	$(Q)/usr/bin/python3 scripts/profile-doc.py build/gen/profile.schema.json \
		docs/profile.md.in docs/profile.md man/pxeforge-profile.5

MANDIR    = $(DESTDIR)$(PREFIX)/share/man

install: build/pxeforge man/pxeforge.1
	install -D -m 0755 build/pxeforge $(DESTDIR)$(PREFIX)/bin/pxeforge
	install -D -m 0644 man/pxeforge.1 $(MANDIR)/man1/pxeforge.1
	if [ -f man/pxeforge-profile.5 ]; then \
		install -D -m 0644 man/pxeforge-profile.5 $(MANDIR)/man5/pxeforge-profile.5; \
	fi

clean:
	rm -rf build out

.PHONY: all san unit-tests check demo demo-boot bench bench-fleet docs install clean FORCE

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
