# SPDX-License-Identifier: GPL-2.0
#
# peerwatch: the thin top-level make. The module itself is built by Kbuild.
#
#   make            userspace (build/) and peerwatch.ko
#   make check      install dependencies, build, run every test suite
#   make demo       install dependencies, build, run the demo
#   make demo-cluster  three etcd members, three agents, 1,000 engines:
#                   kill an agent, watch the takeover, bring it back
#   make style      checkpatch --strict, sparse, shellcheck
#   make SAN=1      userspace with ASan+UBSan (into build-san/)
#   make soak       5,000 engines under random faults for DURATION (2m;
#                   s, m or h), ENGINES=N, SEED=N (selftests/soak/run.sh)
#   make fuzz       libFuzzer targets (clang, into build-fuzz/), each run
#                   for FUZZ_TIME seconds (default 60); fuzz-build builds them
#   make install    into DESTDIR/PREFIX (default /usr/local): binaries, man
#                   pages, bash completion, uapi header, systemd unit, DKMS
#                   module source
#   make bench      install dependencies, build, run the benchmarks
#                   (root; bench/results.json, .md and plots)
#   V=1             show the commands

KVER	?= $(shell scripts/kver)
KDIR	?= /lib/modules/$(KVER)/build
KSRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-6.1.tar.xz))
VERSION	:= $(shell cat VERSION)

ifeq ($(SAN),1)
O	?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
else
O	?= build
endif

CC	?= gcc
CFLAGS	?= -O2 -g
# The agent's layers (see ARCHITECTURE.md): each folder is on the include
# path, so a file includes its neighbours' headers by name.
AGENT_DIRS := agent agent/net agent/watch agent/serve $(wildcard agent/cluster)
AGENT_INC  := $(addprefix -I,$(AGENT_DIRS))
PKGS	:= libmnl libnl-genl-3.0 json-c libssl libcrypto libcares yajl \
	   libxxhash
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	-MMD -MP -Iuapi -Ilib $(PKG_CFLAGS) $(SANFLAGS) \
	-DPEERWATCH_VERSION='"$(VERSION)"'
# The agent's folders are on every include path but the CLI's: cli/ sees
# lib/ and uapi/ only, so that it cannot come to depend on the agent.
INC	:= $(AGENT_INC)
override LDFLAGS += $(SANFLAGS)
LDLIBS	+= $(PKG_LIBS)

ifneq ($(V),1)
Q	:= @
MSG	= @printf '  %-8s %s\n' $(1) $(2);
endif

LIB_SRCS	:= $(wildcard lib/*.c)
AGENT_SRCS	:= $(filter-out agent/main.c,$(wildcard $(addsuffix /*.c,$(AGENT_DIRS))))
CLI_SRCS	:= $(wildcard cli/*.c)
SIM_SRCS	:= $(wildcard selftests/enginesim/*.c)
UNIT_SRCS	:= $(wildcard selftests/unit/*.c)
KSFT_SRCS	:= $(wildcard selftests/kmod/*.c)

obj = $(patsubst %.c,$(O)/%.o,$(1))
LIB_OBJS	:= $(call obj,$(LIB_SRCS))
AGENT_OBJS	:= $(call obj,$(AGENT_SRCS))

BINS	:=
ifneq ($(CLI_SRCS),)
BINS	+= $(O)/peerwatch
endif
ifneq ($(wildcard agent/main.c),)
BINS	+= $(O)/peerwatchd
endif
ifneq ($(SIM_SRCS),)
BINS	+= $(O)/enginesim
endif
ifneq ($(wildcard bench/naive.c),)
BINS	+= $(O)/bench/naive $(O)/bench/floor $(O)/bench/malloc_count.so
endif
ifneq ($(wildcard bench/crr.c),)
BINS	+= $(O)/bench/crr
endif
UNIT_BINS := $(patsubst selftests/unit/%.c,$(O)/selftests/unit/%,$(UNIT_SRCS))
KSFT_BINS := $(patsubst selftests/kmod/%.c,$(O)/selftests/kmod/%,$(KSFT_SRCS))
KSFT_INC  := $(O)/ksrc/tools/testing/selftests

.PHONY: all userspace module tests check demo demo-cluster style deps clean \
	unit-check host-check vm-check vm-check-trixie check-trixie-unit vm-check-debug vm-bench vm-demo fuzz fuzz-build \
	install
.DEFAULT_GOAL := all
.SECONDARY:

all: userspace module

userspace: $(BINS) tests

tests: $(UNIT_BINS) $(KSFT_BINS)

$(O)/%.o: %.c
	$(call MSG,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INC) -c -o $@ $<

$(O)/cli/%.o: INC :=

$(O)/peerwatchd: $(call obj,agent/main.c) $(AGENT_OBJS) $(LIB_OBJS)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/peerwatch: $(call obj,$(CLI_SRCS)) $(LIB_OBJS)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# enginesim stands on lib/ alone: it does not see the agent's headers.
$(call obj,$(SIM_SRCS)): override CFLAGS := $(filter-out $(AGENT_INC),$(CFLAGS))

$(O)/enginesim: $(call obj,$(SIM_SRCS)) $(LIB_OBJS)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The bench's baseline: one thread per connection, blocking sockets.
$(O)/bench/naive: $(call obj,bench/naive.c) $(LIB_OBJS)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)

# The module's cost on a host's TCP (bench/kmod.sh, in the guest).
$(O)/bench/crr: $(call obj,bench/crr.c) $(LIB_OBJS)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The bench's floor: one epoll loop that only counts an answer's bytes.
$(O)/bench/floor: $(call obj,bench/floor.c)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# The bench's count of heap allocations, preloaded into the agent.
$(O)/bench/malloc_count.so: bench/malloc_count.c
	$(call MSG,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fPIC -shared -o $@ $<

$(O)/selftests/unit/%.o: selftests/unit/%.c $(KSFT_INC)/kselftest_harness.h
	$(call MSG,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INC) -Wno-unused-parameter -I$(KSFT_INC) -c -o $@ $<

$(O)/selftests/unit/%: $(O)/selftests/unit/%.o $(AGENT_OBJS) $(LIB_OBJS)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Kernel selftests use the kselftest harness from Debian's linux-source.
$(KSFT_INC)/kselftest_harness.h:
	$(call MSG,EXTRACT,$(O)/ksrc)
	$(Q)scripts/ksrc-extract "$(KSRC_TAR)" $(O)/ksrc

$(O)/selftests/kmod/%.o: selftests/kmod/%.c $(KSFT_INC)/kselftest_harness.h
	$(call MSG,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INC) -Wno-unused-parameter -I$(KSFT_INC) -c -o $@ $<

$(O)/selftests/kmod/%: $(O)/selftests/kmod/%.o $(LIB_OBJS)
	$(call MSG,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer: the parsers the targets call, built by clang into their own
# tree with coverage and ASan+UBSan, linked from an archive so that each
# target holds (and counts coverage of) only what it uses.
FUZZ_O		:= build-fuzz
FUZZ_CC		?= clang
FUZZ_TIME	?= 60
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	:= -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
		   -MMD -MP -Iuapi -Ilib $(AGENT_INC) $(PKG_CFLAGS) $(FUZZ_SAN) \
		   -DPEERWATCH_VERSION='"$(VERSION)"'
FUZZ_SRCS	:= $(wildcard selftests/fuzz/fuzz_*.c)
FUZZ_BINS	:= $(patsubst selftests/fuzz/%.c,$(FUZZ_O)/%,$(FUZZ_SRCS))
FUZZ_LIB	:= $(FUZZ_O)/libpeerwatch.a

$(FUZZ_O)/%.o: %.c
	$(call MSG,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(patsubst %.c,$(FUZZ_O)/%.o,$(AGENT_SRCS) $(LIB_SRCS))
	$(call MSG,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_O)/fuzz_%: $(FUZZ_O)/selftests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(call MSG,LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)selftests/fuzz/run.sh $(FUZZ_O) $(FUZZ_TIME)

module:
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 KCFLAGS=-Werror modules

deps:
	$(Q)scripts/deps.sh

# Each suite prints "N passed, N failed"; check sums them up.
unit-check: userspace
	$(Q)selftests/unit/run.sh $(O)

host-check: userspace
	$(Q)selftests/agent/run.sh $(O)

vm-check: module $(KSFT_BINS) $(BINS)
	$(Q)scripts/ynl-fetch >/dev/null
	$(Q)scripts/vm-run --kver $(KVER) --timeout 1800 -- selftests/kmod/run.sh $(O)

# make soak [DURATION=10m] [ENGINES=5000] [SEED=N] [SAN=1]
DURATION ?= 2m
ENGINES	?= 5000
.PHONY: soak
soak: userspace
	$(Q)DURATION='$(DURATION)' ENGINES='$(ENGINES)' SEED='$(SEED)' \
		selftests/soak/run.sh $(O)

# What the module costs a host's TCP, on both kernels, in the guest
# (bench/kmod.sh); figures into bench/results-kmod.md. Needs a quiet machine.
# The guest's clock counts its instructions (bench/kmod.sh says why).
VM_BENCH_ROUNDS ?= 3
VM_BENCH_RUN = --icount 0 --timeout 3600 -- env ROUNDS=$(VM_BENCH_ROUNDS) CLOCK=icount
vm-bench: module $(BINS)
	$(Q)scripts/vm-run --kver $(KVER) $(VM_BENCH_RUN) \
		bench/kmod.sh $(O) ./peerwatch.ko $(O)/vm-bench-61.md
	$(Q)scripts/kernel-trixie build $(O)/k-trixie
	$(Q)scripts/vm-run --sysroot $$(scripts/kernel-trixie fetch) $(VM_BENCH_RUN) \
		bench/kmod.sh $(O) $(O)/k-trixie/peerwatch.ko $(O)/vm-bench-612.md
	$(Q){ echo "# What peerwatch.ko costs a host's TCP (make vm-bench, $$(date -u +%F))"; \
	  echo; echo "In the test guest, whose clock counts its instructions (QEMU -icount, 1 ns an instruction: the host's load out of the figures; caches and memory too, see bench/kmod.sh); $(VM_BENCH_ROUNDS) rounds of the four cases in rotated order; each figure the median of its rounds, each ratio the median of the ratios to the same round's unloaded figure (lowest to highest). Target (issue 22): every loaded case at 97% or more."; \
	  echo; cat $(O)/vm-bench-61.md; echo; cat $(O)/vm-bench-612.md; } >bench/results-kmod.md
	$(Q)cat bench/results-kmod.md

# The same suite on Debian 13's 6.12, fetched into a cache by debootstrap.
vm-check-trixie: $(KSFT_BINS) $(BINS)
	$(Q)scripts/ynl-fetch >/dev/null
	$(Q)scripts/kernel-trixie check $(O)

# The agent, the CLI and the unit suite with Debian 13's GCC and libraries,
# in a cached trixie tree (scripts/userspace-trixie). Not in check.
check-trixie-unit: deps
	$(Q)scripts/userspace-trixie check

# The same suite on Debian 12's 6.1 built with KASAN, lockdep, atomic-sleep
# checks, debug objects and kmemleak (scripts/kernel-debug, cached).
vm-check-debug: $(KSFT_BINS) $(BINS)
	$(Q)scripts/ynl-fetch >/dev/null
	$(Q)scripts/kernel-debug check $(O)

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/check $(O) $(KVER)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)if [ -x scripts/demo ]; then scripts/demo $(O) $(KVER); \
	else scripts/vm-demo $(O) $(KVER); fi

demo-cluster: deps
	$(Q)$(MAKE) --no-print-directory userspace
	$(Q)scripts/demo-cluster $(O)

# Needs root and a quiet machine; under 10 minutes on 2 cores.
.PHONY: bench
bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory $(BINS) $(O)/bench/gopoller
	$(Q)bench/run $(O)

# The bench's Go baseline; only make bench needs Go.
$(O)/bench/gopoller: bench/gopoller/main.go
	$(call MSG,GO,$@)
	@mkdir -p $(dir $@)
	$(Q)GOCACHE=$(abspath $(O))/gocache GOPATH=$(abspath $(O))/gopath \
		go build -o $@ $<

vm-demo: all
	$(Q)scripts/vm-demo $(O) $(KVER)

style: $(KSFT_INC)/kselftest_harness.h
	$(Q)scripts/style $(O) $(KDIR)

# make install [PREFIX=/usr/local] [DESTDIR=]. The unit and sysusers.d
# file go where systemd looks: /lib and /usr/lib for PREFIX=/usr.
PREFIX	?= /usr/local
ifeq ($(PREFIX),/usr)
UNITDIR	?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
else
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
endif
DOCDIR	:= $(PREFIX)/share/doc/peerwatch
DKMSDIR	:= $(PREFIX)/src/peerwatch-$(VERSION)
INST	= install -D -m $(1) $(2) $(DESTDIR)$(3)
SUBST	= sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SBINDIR@|$(PREFIX)/sbin|g'

install: $(O)/peerwatchd $(O)/peerwatch
	$(call MSG,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(call INST,0755,$(O)/peerwatchd,$(PREFIX)/sbin/peerwatchd)
	$(Q)$(call INST,0755,$(O)/peerwatch,$(PREFIX)/bin/peerwatch)
	$(Q)for m in peerwatchd.8 peerwatch.8 peerwatch.7; do \
		mkdir -p $(DESTDIR)$(PREFIX)/share/man/man$${m##*.} && \
		$(SUBST) man/$$m >$(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$$m && \
		chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$$m || exit 1; \
	done
	$(Q)$(call INST,0644,uapi/linux/peerwatch.h,$(PREFIX)/include/linux/peerwatch.h)
	$(Q)$(call INST,0644,dist/engines,$(DOCDIR)/examples/engines)
	$(Q)$(call INST,0644,dist/peerwatchd.default,$(DOCDIR)/examples/peerwatchd.default)
	$(Q)$(call INST,0644,dist/peerwatch.bash-completion,$(PREFIX)/share/bash-completion/completions/peerwatch)
	$(Q)$(call INST,0644,dist/peerwatch.rules.yml,$(DOCDIR)/examples/peerwatch.rules.yml)
	$(Q)mkdir -p $(DESTDIR)$(UNITDIR)
	$(Q)$(SUBST) dist/peerwatchd.service.in >$(DESTDIR)$(UNITDIR)/peerwatchd.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/peerwatchd.service
	$(Q)$(call INST,0644,dist/peerwatch.sysusers,$(SYSUSERSDIR)/peerwatch.conf)
	$(Q)for f in Kbuild VERSION kmod/*.[ch] uapi/linux/peerwatch.h; do \
		install -D -m 0644 $$f $(DESTDIR)$(DKMSDIR)/$$f || exit 1; \
	done
	$(Q)sed 's|^PACKAGE_VERSION=.*|PACKAGE_VERSION="$(VERSION)"|' dkms.conf \
		>$(DESTDIR)$(DKMSDIR)/dkms.conf
	$(Q)chmod 0644 $(DESTDIR)$(DKMSDIR)/dkms.conf

clean:
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null 2>&1 || true
	$(Q)rm -rf build build-san build-fuzz

-include $(shell find $(O) $(FUZZ_O) -name '*.d' 2>/dev/null)
