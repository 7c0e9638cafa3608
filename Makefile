# linux-hce top-level Makefile.
#   make            build the kernel modules (W=1) and all userspace programs
#   make check      install prerequisites, build, run every test (host and VM); ends "N passed, N failed"
#   make demo       the quick-start demo: a fare at the virtual gate, a web top-up arriving on the phone, a fare cleared at the issuer
#   make bench      benchmarks (not part of check)
#   make checkpatch checkpatch --strict on the kernel sources

# Build in parallel on every core unless the caller chose (-jN).
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif

KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | grep -E '^[0-9].*-amd64$$' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
export KVER KDIR

LINUX_SRC := build/linux-source
CHECKPATCH := $(LINUX_SRC)/scripts/checkpatch.pl
# Kernel sources we write (not the generated *.mod.c).
KERNEL_SOURCES = $(filter-out %.mod.c,$(wildcard drivers/nfc/hce/*.[ch])) include/uapi/linux/nfc_hce.h

.PHONY: all deps modules userspace selftests check check-host check-vm bench demo \
	checkpatch clean

all: modules userspace selftests

deps:
	@scripts/install-deps

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 KCFLAGS=-Werror modules

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C tools/testing/selftests/nfc_hce

check: deps
	$(MAKE) all
	$(MAKE) -C userspace check-build
	tools/testing/run-checks

check-host: deps
	$(MAKE) all
	$(MAKE) -C userspace check-build
	tools/testing/run-checks --host-only

check-vm: deps
	$(MAKE) all
	tools/testing/run-checks --vm-only

bench: deps
	$(MAKE) all
	bench/run

demo: deps
	@echo "building (make all; the log goes to build/demo/build.log) ..."
	@mkdir -p build/demo
	@$(MAKE) -s all > build/demo/build.log 2>&1 || \
		{ tail -n 30 build/demo/build.log; echo "demo: the build failed"; exit 1; }
	@tools/demo/run

checkpatch: deps
	$(CHECKPATCH) --no-tree --strict --terse -f $(KERNEL_SOURCES)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C userspace clean
	-$(MAKE) -C tools/testing/selftests/nfc_hce clean
	rm -rf build/results build/vm build/bench
