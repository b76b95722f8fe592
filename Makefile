# SPDX-License-Identifier: GPL-2.0
#
# vfioscope: one entry point.
#   make deps    install every Debian package the project needs (idempotent)
#   make         build modules (amd64 and ppc64el), BPF objects, skeletons,
#                tools and tests
#   make modules-ppc64el   only the modules, cross-built for Debian's ppc64el kernel
#   make tools-ppc64el     only vfio-top, vfio-lat and vfio-leak, cross-built
#                          static for the POWER guest (part of make)
#   make vm-image-ppc64el  the POWER guest's kernel and initramfs (part of make),
#                with the test-only shim (test-modules-ppc64el) and the static
#                ppc64el test programs (tests-ppc64el)
#   make check   deps + build + every test; ends with "N passed, N failed"
#   make check-packages   the Debian packages installed in the 6.12 guest (~8 min)
#   make deb     the Debian packages, into build/deb;  make install: see below
#   make demo    deps + build + boot the VM and show the tools at work
#   make bench   deps + build + the benchmarks (bench/run.sh), into docs/performance.md
#   make fuzz    the uAPI fuzzer for 2,000,000 ops;  make race: one race for minutes
#
# KVER=<ver>      build and test for that Debian kernel alone (default: every
#                 supported series installed, newest 6.1 and 6.12 *-amd64,
#                 scripts/kver.sh); modules-ppc64el builds for the ppc64el
#                 kernel of the 6.1 ABI
# VM_TESTS="a b"  run only these VM tests (names under tests/vm/guest/)
# V=1             show the commands

.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := /bin/bash

O := build
# Evaluated once; `make check` re-runs make after deps so a kernel installed
# by deps is seen.
# KVER is the kernel this make builds for: the BPF objects' vmlinux.h and
# the ppc64el kernel come from it.  The other series (KVERS) get their
# modules and VM image from a make of their own, with KVER set.
ifeq ($(origin KVER),undefined)
KVER := $(shell scripts/kver.sh 2>/dev/null)
KVERS := $(shell scripts/kver.sh --all 2>/dev/null)
else
KVERS := $(KVER)
endif
OTHER_KVERS := $(filter-out $(KVER),$(KVERS))
# $(call for_other_kernels,TARGETS)
for_other_kernels = $(foreach k,$(OTHER_KVERS),$(MAKE) KVER=$(k) $(1) &&) true
KOUT := $(O)/kernel/$(KVER)
KDIR := $(KOUT)/kdir
VMLINUX_H := $(KOUT)/vmlinux.h

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

CC := gcc
CLANG := clang
BPFTOOL := bpftool
# EXTRA_CFLAGS, EXTRA_LDFLAGS: added to the user-space programs' own (debian/rules
# passes Debian's hardening flags, from dpkg-buildflags, through them).
CFLAGS := -g -O2 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	$(EXTRA_CFLAGS)
# The release, from one file: the tools' --version, the man pages, the
# DKMS package and debian/changelog (tests/host/packaging.py) all say it.
VERSION := $(shell cat VERSION)
CPPFLAGS := -I$(O)/bpf -Itools/lib -Itests/lib -Ibpf -Ikernel/include/uapi -Itracepoints \
	-DVFIOSCOPE_VERSION='"$(VERSION)"'
# libbpf, libelf and zlib statically: one binary runs on host and guest.
# The Debian packages link them dynamically (STATIC_LIBS=0, debian/rules):
# there Debian's security updates of each library reach the tools.
STATIC_LIBS ?= 1
ifeq ($(STATIC_LIBS),1)
LDLIBS := $(EXTRA_LDFLAGS) -Wl,-Bstatic -lbpf -lelf -lz -Wl,-Bdynamic -lpthread -lm
else
LDLIBS := $(EXTRA_LDFLAGS) -lbpf -lelf -lz -lpthread -lm
endif
# libmicrohttpd dynamically, and only in the exporter: its HTTP parser then
# gets Debian's security updates without a rebuild, and the guest, chrooted
# into the host's root, sees the same library (a static one would bring
# GnuTLS and p11-kit, which Debian ships no static archive of).
$(O)/tools/vfio-exporter: LDLIBS += -lmicrohttpd
# One BPF object set for amd64 and ppc64el (both little-endian): the
# programs use no PT_REGS (the only thing __TARGET_ARCH_x86 selects), the
# raw_tp and tp_btf ones read the events' u64 arguments, and their kernel
# types are CO-RE relocated against the BTF of the kernel they load into.
BPF_CFLAGS := -g -O2 -Wall -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
	-I$(KOUT) -Ibpf -Itracepoints

# What there is to build, found by name: a new tool is a new X.bpf.c + X.c.
BPF_SRCS := $(wildcard bpf/*.bpf.c tests/bpf/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(O)/bpf/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS := $(BPF_OBJS:.bpf.o=.skel.h)
TOOLS := $(patsubst tools/%.c,$(O)/tools/%,$(wildcard tools/*.c))
LIB_SRCS := $(wildcard tools/lib/*.c)
LIB := $(O)/lib/libvfioscope.a
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB := $(O)/tests/lib/libtest.a
TEST_SRCS := $(filter-out %.bpf.c,$(wildcard tests/host/*.c tests/bpf/*.c tests/vm/progs/*.c))
TEST_PROGS := $(addprefix $(O)/tests/,$(notdir $(TEST_SRCS:.c=)))
BENCH_PROGS := $(patsubst bench/%.c,$(O)/bench/%,$(filter-out %.bpf.c,$(wildcard bench/*.c)))
# bench/native_cost's empty program, and every BPF object named here so
# that make keeps them (as a skeleton's input alone each is intermediate
# and deleted): native_cost loads the exporter's.
BENCH_BPF := $(patsubst bench/%.bpf.c,$(O)/bench/%.bpf.o,$(wildcard bench/*.bpf.c)) $(BPF_OBJS)

vpath %.bpf.c bpf tests/bpf
vpath %.c tests/host tests/bpf tests/vm/progs

.PHONY: all deps modules bpf tools tests check demo bench clean distclean FORCE \
	kernel-tree vm-image run-tests run-demo modules-notrace bench-progs run-bench \
	fuzz race install install-dkms deb check-packages modules-ppc64el vm-image-ppc64el test-modules-ppc64el tests-ppc64el \
	tools-ppc64el

all: modules modules-ppc64el test-modules-ppc64el bpf tools tools-ppc64el tests \
	tests-ppc64el bench-progs vm-image vm-image-ppc64el

deps:
	$(Q)scripts/deps.sh

# --- kernel side ------------------------------------------------------------

$(KOUT)/kver: scripts/kernel-tree.sh scripts/kdir.sh
	$(call msg,KTREE,$(KVER))
	$(Q)test -n "$(KVER)" || { echo "no Debian 6.1 *-amd64 kernel installed (make deps)" >&2; exit 1; }
	$(Q)scripts/kernel-tree.sh $(KVER) $(KOUT)

$(VMLINUX_H) $(KDIR): $(KOUT)/kver
kernel-tree: $(KOUT)/kver

# Kbuild writes objects next to the sources of an external module, so we
# build a mirror of symlinks under build/ and point M= at it.
MOD_SRC := $(shell find kernel tracepoints -type f 2>/dev/null) VERSION
MOD_OUT := $(KOUT)/modules

# $(call mirror,DIR): refresh the mirror in DIR; drops links to sources
# removed from kernel/.
define mirror
	$(Q)mkdir -p $(1)/tracepoints && cp -rsf $(CURDIR)/kernel/. $(1)/
	$(Q)! test -d tracepoints || cp -rsf $(CURDIR)/tracepoints/. $(1)/tracepoints/
	$(Q)ln -sf $(CURDIR)/VERSION $(1)/VERSION
	$(Q)find -L $(1) -type l -delete
endef

modules: $(MOD_OUT)/.built
	+$(Q)$(call for_other_kernels,modules)
$(MOD_OUT)/.built: $(KOUT)/kver $(MOD_SRC)
	$(call msg,KBUILD,$(MOD_OUT))
	$(call mirror,$(MOD_OUT))
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MOD_OUT) $(if $(filter 1,$(V)),V=1,-s) modules
	$(Q)scripts/check-btf.sh $(MOD_OUT)
	$(Q)touch $@

# The same modules with every tracepoint compiled out (<linux/tracepoint.h>
# turns them into empty inlines under NOTRACE), in their own mirror: the
# baseline that bench/ compares "tracepoints disabled" against.
NOTRACE_OUT := $(KOUT)/modules-notrace

modules-notrace: $(NOTRACE_OUT)/.built
	+$(Q)$(call for_other_kernels,modules-notrace)
$(NOTRACE_OUT)/.built: $(KOUT)/kver $(MOD_SRC)
	$(call msg,KBUILD,$(NOTRACE_OUT) (NOTRACE))
	$(call mirror,$(NOTRACE_OUT))
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR)/$(NOTRACE_OUT) KCFLAGS=-DNOTRACE $(if $(filter 1,$(V)),V=1,-s) modules
	$(Q)touch $@

# The same sources cross-built for Debian's ppc64el kernel of KVER's ABI
# (6.1.0-NN-powerpc64le), with module BTF: scripts/kernel-tree-ppc64el.sh
# makes the tree from the packages `make deps` fetched
# (scripts/ppc64el-debs.sh).  tests/host/ppc64el_modules.py checks them.
PPC_KVER := $(patsubst %-amd64,%-powerpc64le,$(KVER))
PPC_KOUT := $(O)/kernel/$(PPC_KVER)
PPC_MOD_OUT := $(PPC_KOUT)/modules

$(PPC_KOUT)/kver: scripts/kernel-tree-ppc64el.sh scripts/kdir.sh scripts/ppc64el-debs.sh
	$(call msg,KTREE,$(PPC_KVER))
	$(Q)test -n "$(KVER)" || { echo "no Debian 6.1 *-amd64 kernel installed (make deps)" >&2; exit 1; }
	$(Q)scripts/kernel-tree-ppc64el.sh $(PPC_KVER) $(PPC_KOUT)

modules-ppc64el: $(PPC_MOD_OUT)/.built
$(PPC_MOD_OUT)/.built: $(PPC_KOUT)/kver $(MOD_SRC)
	$(call msg,KBUILD,$(PPC_MOD_OUT))
	$(Q)command -v powerpc64le-linux-gnu-gcc >/dev/null || { echo "no powerpc64le-linux-gnu-gcc (make deps)" >&2; exit 1; }
	$(call mirror,$(PPC_MOD_OUT))
	$(Q)$(MAKE) -C $(PPC_KOUT)/kdir M=$(CURDIR)/$(PPC_MOD_OUT) ARCH=powerpc \
		CROSS_COMPILE=powerpc64le-linux-gnu- $(if $(filter 1,$(V)),V=1,-s) modules
	$(Q)scripts/check-btf.sh $(PPC_MOD_OUT)
	$(Q)touch $@

# Test-only modules for the POWER guest (tests/kmod/: the iommu_ops shim
# stock 6.1 needs before vfio-pci binds anything), in their own mirror and
# output folder so nothing of them lands among the modules a user gets.
# No module BTF: the ppc64el kernel loads none, and no tool reads theirs.
PPC_TESTMOD_OUT := $(PPC_KOUT)/test-modules
TESTMOD_SRC := $(wildcard tests/kmod/*)

test-modules-ppc64el: $(PPC_TESTMOD_OUT)/.built
$(PPC_TESTMOD_OUT)/.built: $(PPC_KOUT)/kver $(TESTMOD_SRC)
	$(call msg,KBUILD,$(PPC_TESTMOD_OUT))
	$(Q)command -v powerpc64le-linux-gnu-gcc >/dev/null || { echo "no powerpc64le-linux-gnu-gcc (make deps)" >&2; exit 1; }
	$(Q)mkdir -p $(PPC_TESTMOD_OUT) && cp -rsf $(CURDIR)/tests/kmod/. $(PPC_TESTMOD_OUT)/
	$(Q)find -L $(PPC_TESTMOD_OUT) -type l -delete
	$(Q)$(MAKE) -C $(PPC_KOUT)/kdir M=$(CURDIR)/$(PPC_TESTMOD_OUT) ARCH=powerpc \
		CROSS_COMPILE=powerpc64le-linux-gnu- CONFIG_DEBUG_INFO_BTF_MODULES= \
		$(if $(filter 1,$(V)),V=1,-s) modules
	$(Q)touch $@

# --- BPF and user space -------------------------------------------------------

bpf: $(SKELS)

# The BPF objects live in $(O)/bpf whatever KVER is, but are compiled
# against KVER's vmlinux.h, and make compares times only: after a build
# for 6.1, `make KVER=6.12... bpf` would keep the 6.1 objects, 6.12's
# vmlinux.h being older.  This stamp holds the KVER they were built for
# and changes (so they rebuild) only when KVER does.
BPF_KVER := $(O)/bpf/.kver
$(BPF_KVER): FORCE
	$(Q)mkdir -p $(@D)
	$(Q)[ "$$(cat $@ 2>/dev/null)" = "$(KVER)" ] || echo "$(KVER)" >$@
FORCE:

$(O)/bpf/%.bpf.o: %.bpf.c $(VMLINUX_H) $(BPF_KVER) $(wildcard bpf/*.h tracepoints/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) >$@

$(O)/lib/%.o: tools/lib/%.c $(wildcard tools/lib/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -c $< -o $@

# The collector's reader embeds the collector's object.
$(O)/lib/collector.o: $(O)/bpf/vfio-collector.skel.h

$(LIB): $(patsubst tools/lib/%.c,$(O)/lib/%.o,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

tools: $(TOOLS)
tests: $(TEST_PROGS)
bench-progs: $(BENCH_PROGS) $(BENCH_BPF)

$(O)/tools/%: tools/%.c $(SKELS) $(LIB) $(wildcard tools/*.h tools/lib/*.h bpf/*.h) VERSION
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(O)/tests/lib/%.o: tests/lib/%.c $(wildcard tests/lib/*.h tools/lib/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -c $< -o $@

$(TESTLIB): $(patsubst tests/lib/%.c,$(O)/tests/lib/%.o,$(TESTLIB_SRCS))
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

$(O)/tests/%: %.c $(SKELS) $(LIB) $(TESTLIB) $(wildcard tests/lib/*.h tools/lib/*.h bpf/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) $< $(TESTLIB) $(LIB) $(LDLIBS) -o $@

# The POWER guest's test programs (tests/power/), static ppc64el binaries
# with the C test library: the guest runs no host binary.  vfio_util.c
# byte-swaps edu's registers there (big-endian on ppc64).
PPC_CC := powerpc64le-linux-gnu-gcc
PPC_TEST_OUT := $(O)/tests-ppc64el
PPC_TESTLIB_SRCS := tests/lib/vfio_util.c tests/lib/check.c tests/lib/spapr_report.c
PPC_TEST_PROGS := $(patsubst tests/power/%.c,$(PPC_TEST_OUT)/%,$(wildcard tests/power/*.c))

tests-ppc64el: $(PPC_TEST_PROGS)
$(PPC_TEST_OUT)/%: tests/power/%.c $(PPC_TESTLIB_SRCS) $(wildcard tests/lib/*.h kernel/include/uapi/vfioscope/*.h)
	$(call msg,CC-PPC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(PPC_CC) -static $(CFLAGS) -Itests/lib -Ikernel/include/uapi $< $(PPC_TESTLIB_SRCS) -o $@

$(O)/bench/%.bpf.o: bench/%.bpf.c $(VMLINUX_H) $(BPF_KVER)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bench/%: bench/%.c $(TESTLIB) $(LIB) $(wildcard tests/lib/*.h kernel/include/uapi/vfioscope/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) $< $(TESTLIB) $(LIB) $(LDLIBS) -o $@

# --- the tools for POWER -------------------------------------------------------

# The same tools/ sources, BPF objects and skeletons, built for the POWER
# guest (tests/vm/boot-ppc64.sh).  What differs, and why:
#  - powerpc64le-linux-gnu-gcc, and -static for glibc too: the guest runs
#    busybox and what its initramfs holds, no shared library;
#  - libbpf, libelf and zlib are Debian's ppc64el -dev packages, extracted
#    by `make deps` (scripts/ppc64el-debs.sh --path sysroot), never
#    installed (TESTBED.md: a ppc64el dpkg architecture removes gcc);
#  - no vfio-exporter: it links libmicrohttpd, whose static build would
#    bring GnuTLS and p11-kit, of which Debian ships no static archive.
PPC_CC := powerpc64le-linux-gnu-gcc
PPC_O := $(O)/tools-ppc64el
PPC_TOOLS := $(addprefix $(PPC_O)/,vfio-top vfio-lat vfio-leak)
PPC_LIB := $(PPC_O)/lib/libvfioscope.a
# Asked once, when first used; the script says what is missing.
PPC_SYSROOT = $(eval PPC_SYSROOT := $(shell scripts/ppc64el-debs.sh --path sysroot))$(PPC_SYSROOT)
PPC_CPPFLAGS = $(CPPFLAGS) -isystem $(PPC_SYSROOT)/usr/include
PPC_LDLIBS = -static -L$(PPC_SYSROOT)/usr/lib/powerpc64le-linux-gnu -lbpf -lelf -lz -lpthread -lm
# Never the host's /usr/include in its place.
ppc_check = $(Q)test -n "$(PPC_SYSROOT)" && command -v $(PPC_CC) >/dev/null || \
	{ echo "no ppc64el sysroot or $(PPC_CC) (make deps)" >&2; exit 1; }

# The BTF the tools relocate against in that guest, whose kernel has
# none (--btf): the ppc64el kernel's, cut down by bpftool to the types
# our BPF objects' CO-RE relocations name (~0.5 KB instead of 3.7 MB).
PPC_BTF := $(PPC_O)/vmlinux-min.btf
TOOL_BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(wildcard bpf/*.bpf.c))

tools-ppc64el: $(PPC_TOOLS) $(PPC_BTF)

$(PPC_BTF): $(PPC_KOUT)/kver $(TOOL_BPF_OBJS)
	$(call msg,BTFGEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen min_core_btf $(PPC_KOUT)/vmlinux.btf $@ $(TOOL_BPF_OBJS)

$(PPC_O)/lib/%.o: tools/lib/%.c $(wildcard tools/lib/*.h)
	$(call msg,CC-PPC,$@)
	$(ppc_check)
	$(Q)mkdir -p $(@D)
	$(Q)$(PPC_CC) $(CFLAGS) $(PPC_CPPFLAGS) -c $< -o $@

$(PPC_O)/lib/collector.o: $(O)/bpf/vfio-collector.skel.h

$(PPC_LIB): $(patsubst tools/lib/%.c,$(PPC_O)/lib/%.o,$(LIB_SRCS))
	$(call msg,AR-PPC,$@)
	$(Q)rm -f $@ && powerpc64le-linux-gnu-ar rcs $@ $^

$(PPC_O)/%: tools/%.c $(SKELS) $(PPC_LIB) $(wildcard tools/*.h tools/lib/*.h bpf/*.h) VERSION
	$(call msg,CC-PPC,$@)
	$(ppc_check)
	$(Q)$(PPC_CC) $(CFLAGS) $(PPC_CPPFLAGS) $< $(PPC_LIB) $(PPC_LDLIBS) -o $@

# --- the VM test bench ---------------------------------------------------------

# The module list comes from the kernel's modules.dep and modules.builtin
# (6.1 and 6.12 differ): a kernel update under the same ABI name rebuilds it.
vm-image: $(O)/vm/$(KVER)/initramfs.cpio.gz
	+$(Q)$(call for_other_kernels,vm-image)
$(O)/vm/$(KVER)/initramfs.cpio.gz: tests/vm/mkinitramfs.sh tests/vm/init \
		$(wildcard /lib/modules/$(KVER)/modules.dep /lib/modules/$(KVER)/modules.builtin)
	$(call msg,INITRD,$@)
	$(Q)tests/vm/mkinitramfs.sh $(KVER) $@

# The POWER guest (tests/vm/boot-ppc64.sh): Debian's ppc64el kernel
# (vmlinux, beside the initramfs), busybox-static ppc64el, our cross-built
# modules and the Debian modules they need, Debian's own VFIO modules (the
# reference stack), the test-only shim, the test programs, our cross-built
# tools and the BTF they relocate against; no 9p, the guest cannot run the
# host's binaries.
PPC_VM := $(O)/vm/$(PPC_KVER)
vm-image-ppc64el: $(PPC_VM)/initramfs.cpio.gz
$(PPC_VM)/initramfs.cpio.gz: tests/vm/mkinitramfs-ppc64.sh tests/vm/init-ppc64 \
		scripts/ppc64el-debs.sh $(PPC_MOD_OUT)/.built $(PPC_TESTMOD_OUT)/.built \
		$(PPC_TEST_PROGS) $(PPC_TOOLS) $(PPC_BTF)
	$(call msg,INITRD,$@)
	$(Q)tests/vm/mkinitramfs-ppc64.sh $(PPC_KVER) $(PPC_MOD_OUT) $(PPC_TESTMOD_OUT) \
		$(PPC_TEST_OUT) $(PPC_O) $@

# --- entry points ----------------------------------------------------------------

# The build uses every core: it comes before the VM, which then runs alone.
BUILD_JOBS := -j$(shell nproc)

# run-tests builds the packages (make deb) beside the VM, niced.
check: deps
	$(Q)$(MAKE) $(BUILD_JOBS) all
	$(Q)$(MAKE) run-tests

# The packages installed in the 6.12 guest (tests/vm/guest/packages.sh):
# DKMS compiles there under TCG, ~7 min, so it is not part of make check
# (whose host suite tests/host/packaging.py checks the packages, and runs
# the same DKMS build natively).
check-packages: deps
	$(Q)$(MAKE) $(BUILD_JOBS) all
	$(Q)$(MAKE) deb
	$(Q)k=$$(scripts/kver.sh --series 6.12); test -n "$$k" || \
		{ echo "check-packages: no Debian 6.12 kernel installed (make deps)" >&2; exit 1; }; \
		O=$(O) VM_KVERS=$$k VM_STACKS=ours tests/vm/run packages

demo: deps
	$(Q)$(MAKE) $(BUILD_JOBS) all
	$(Q)$(MAKE) run-demo

bench: deps
	$(Q)$(MAKE) $(BUILD_JOBS) all modules-notrace
	$(Q)$(MAKE) run-bench

# The uAPI fuzzer in the VM, >= 1,000,000 ops (FUZZ_OPS, FUZZ_SEED,
# FUZZ_THREADS, FUZZ_PROCS to change the run; a failure prints its replay).
fuzz: all
	$(Q)KVER=$(KVER) O=$(O) scripts/fuzz.sh

# One race of vfio_races for minutes on one stack (RACE, RACE_SECONDS,
# RACE_STACK; see scripts/race.sh): tells a crash from a hang.
race: all
	$(Q)KVER=$(KVER) O=$(O) scripts/race.sh

# Without deps or build: for iterating on tests.
run-tests:
	$(Q)KVER=$(KVER) VM_KVERS="$(KVERS)" O=$(O) VM_TESTS="$(VM_TESTS)" tests/run-all.sh
run-demo:
	$(Q)KVER=$(KVER) O=$(O) scripts/demo.sh
# Every supported kernel installed (KVER= picks one), each against its own
# in-tree VFIO; ROUNDS=N (default 5) alternating boots per stack; OBS_ROUNDS=N (default 4)
# rounds of the observability variants in each boot of ours; OBS_CALLS,
# OBS_REPEAT, BENCH_PARTS: see bench/run.sh.
run-bench:
	$(Q)BENCH_KVERS="$(KVERS)" O=$(O) ROUNDS=$(ROUNDS) OBS_ROUNDS=$(OBS_ROUNDS) OBS_CALLS="$(OBS_CALLS)" \
		OBS_REPEAT=$(OBS_REPEAT) BENCH_PARTS="$(BENCH_PARTS)" bench/run.sh

# --- installing on a host (docs/packaging.md) -----------------------------------

# make install [DESTDIR=] [PREFIX=/usr/local]: the tools, the exporter's
# unit and user, the perf scripts, the dashboards and rules, the man pages.
# make install-dkms: the modules' source for DKMS, in /usr/src.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR := $(PREFIX)/sbin
MANDIR := $(PREFIX)/share/man
PKGDATADIR := $(PREFIX)/share/vfioscope
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DKMSDIR := /usr/src/vfioscope-$(VERSION)
PERF_SCRIPTS := vfio-record vfio-report vfio-plot
INSTALL := install

install: tools
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PKGDATADIR)/perf $(DESTDIR)$(PKGDATADIR)/grafana \
		$(DESTDIR)$(PKGDATADIR)/prometheus $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/default
	$(Q)$(INSTALL) -m 0755 $(TOOLS) $(DESTDIR)$(SBINDIR)/
	$(Q)$(INSTALL) -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0755 $(addprefix tools/perf/,$(PERF_SCRIPTS)) $(DESTDIR)$(PKGDATADIR)/perf/
	$(Q)$(INSTALL) -m 0644 tools/perf/vfio_perf.py $(DESTDIR)$(PKGDATADIR)/perf/
	$(Q)$(INSTALL) -m 0644 dashboards/grafana/*.json $(DESTDIR)$(PKGDATADIR)/grafana/
	$(Q)$(INSTALL) -m 0644 dashboards/prometheus.yml dashboards/vfioscope-rules.yml \
		dashboards/vfioscope-rules.test.yml $(DESTDIR)$(PKGDATADIR)/prometheus/
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/systemd/vfio-exporter.service.in >$(DESTDIR)$(UNITDIR)/vfio-exporter.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/vfio-exporter.service
	$(Q)$(INSTALL) -m 0644 dist/systemd/vfio-exporter.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/vfioscope-exporter.conf
	$(Q)$(INSTALL) -m 0644 dist/systemd/vfio-exporter.default $(DESTDIR)$(SYSCONFDIR)/default/vfio-exporter

# The modules' sources as DKMS builds them: kernel/ without the test
# bench's testing/ and the uAPI headers only its modules and programs
# include, the trace ABI beside it as the mirror has it, and the build
# script with the kdir.sh it sources.
install-dkms:
	$(call msg,INSTALL,$(DESTDIR)$(DKMSDIR))
	$(Q)rm -rf $(DESTDIR)$(DKMSDIR)
	$(Q)$(INSTALL) -d $(DESTDIR)$(DKMSDIR)/tracepoints
	$(Q)cp -r kernel/. $(DESTDIR)$(DKMSDIR)/
	$(Q)rm -rf $(DESTDIR)$(DKMSDIR)/testing $(DESTDIR)$(DKMSDIR)/include/uapi
	$(Q)cp -r tracepoints/. $(DESTDIR)$(DKMSDIR)/tracepoints/
	$(Q)$(INSTALL) -m 0755 dist/dkms/build.sh $(DESTDIR)$(DKMSDIR)/
	$(Q)$(INSTALL) -m 0644 scripts/kdir.sh VERSION $(DESTDIR)$(DKMSDIR)/
	$(Q)sed 's|@VERSION@|$(VERSION)|g' dist/dkms/dkms.conf.in >$(DESTDIR)$(DKMSDIR)/dkms.conf
	$(Q)chmod -R u=rwX,go=rX $(DESTDIR)$(DKMSDIR)

# make deb: the Debian packages (debian/), built from the tracked files
# in $(O)/deb/vfioscope-$(VERSION); the .debs land in $(O)/deb.
DEB_DIR := $(O)/deb
deb:
	$(call msg,DEB,$(DEB_DIR))
	$(Q)git rev-parse --git-dir >/dev/null 2>&1 || \
		{ echo "make deb: needs a git checkout (it packages the tracked files)" >&2; exit 1; }
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/vfioscope-$(VERSION)
	$(Q)git ls-files -z | xargs -0 cp --parents -P -t $(DEB_DIR)/vfioscope-$(VERSION)
	$(Q)cd $(DEB_DIR)/vfioscope-$(VERSION) && \
		dpkg-buildpackage -us -uc -b $(BUILD_JOBS) >../build.log 2>&1 || \
		{ tail -n 40 ../build.log >&2; echo "make deb: failed, see $(DEB_DIR)/build.log" >&2; exit 1; }
	$(Q)ls $(DEB_DIR)/*.deb

clean:
	$(Q)rm -rf $(O)
distclean: clean
