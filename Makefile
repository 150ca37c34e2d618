# pgmq: PGXS build, install and test entry points.
#
# make / make install        build and install into the server pg_config names
# make installcheck          pg_regress + isolation (+ TAP) against a running server
# make test                  everything, on a throwaway cluster (test/harness.sh),
#                            built with PGMQ_WERROR=1 (-Werror; off by default)
# make demo                  the producer/consumer walkthrough on a throwaway cluster
# make fuzz                  libFuzzer on the pure-C validators for FUZZ_SECONDS (60)
# make test-long             make test with 10 crash rounds and 300 s of fuzzing (not in CI)
# make bench-latency         read_with_poll wakeup latency, preloaded vs polling
# make bench-horizon         consumers while the MVCC horizon is pinned (test/bench/horizon.sh),
#                            against the server in PGHOST/PGPORT (e.g. PGMQ_KEEP_CLUSTER=1 make test)
# make bench-router          the same operations direct vs through a pgmq_router (2 shards), 1 and 4 clients
#
# router/ (extension pgmq_router) is built, installed and cleaned with pgmq.
EXTENSION   = pgmq
MODULE_big  = pgmq
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
# sql/pgmq--1.11.0--1.13.1.sql is generated (see its .in prologue): listed
# by name so that a clean tree installs it too.
UPGRADE_1_11 = sql/pgmq--1.11.0--1.13.1.sql
DATA        = $(sort $(wildcard sql/pgmq--*.sql) $(UPGRADE_1_11))
PGFILEDESC  = "pgmq - message queue inside PostgreSQL"

# Every sql/<test>.sql that is not an install or upgrade script is a regress test.
REGRESS     = $(sort $(basename $(notdir $(filter-out sql/pgmq--%,$(wildcard sql/*.sql)))))
ISOLATION   = $(sort $(basename $(notdir $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --outputdir=output_iso
ifneq ($(wildcard test/t/*.pl),)
TAP_TESTS   = 1
PROVE_TESTS = test/t/*.pl
endif

# Warnings are errors only when asked (make test and CI pass PGMQ_WERROR=1):
# packagers build with compilers whose warnings we have not seen.
PGMQ_WERROR ?= 0
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter
ifeq ($(PGMQ_WERROR),1)
PG_CFLAGS  += -Werror
endif
PG_CPPFLAGS = -I$(srcdir)/src

EXTRA_CLEAN = $(UPGRADE_1_11) results output_iso tmp_check tmp_check_iso regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: $(UPGRADE_1_11)

# The in-place upgrade from the PL/pgSQL pgmq 1.11.0: the prologue, then the
# install chain with the objects 1.11.0 already has left out and CREATE
# FUNCTION turned into CREATE OR REPLACE FUNCTION, then the adoption of its
# queue tables.  awk drops each statement that starts with one of those
# CREATE TYPE / CREATE TABLE lines through the line that ends it (");").
$(UPGRADE_1_11): $(UPGRADE_1_11).in sql/pgmq--1.0.sql sql/pgmq--1.0--1.1.sql sql/pgmq--1.1--1.13.1.sql
	{ cat $<; \
	  for f in sql/pgmq--1.0.sql sql/pgmq--1.0--1.1.sql sql/pgmq--1.1--1.13.1.sql; do \
	    echo; echo "-- from $$f"; \
	    awk '/^\\echo /{next} \
	         /^SELECT pgmq\._adopt_queue_tables\(\);/{next} \
	         /^CREATE (TYPE pgmq\.(message_record|queue_record|metrics_result)|TABLE pgmq\.(meta|topic_bindings|notify_insert_throttle)) /{skip=1} \
	         skip{ if ($$0 ~ /^\);/) skip=0; next } \
	         { sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION "); print }' $$f; \
	  done; \
	  echo; echo "-- last: adopt the queue tables of 1.11.0 (our read index; never extension members)"; \
	  echo "SELECT pgmq._adopt_queue_tables();"; } > $@.tmp && mv $@.tmp $@

.PHONY: test test-long demo bench bench-latency bench-horizon bench-router fuzz router-all router-install router-clean
all: router-all
install: router-install
clean: router-clean
router-all:
	$(MAKE) -C router PG_CONFIG=$(PG_CONFIG)
router-install:
	$(MAKE) -C router PG_CONFIG=$(PG_CONFIG) install
router-clean:
	$(MAKE) -C router PG_CONFIG=$(PG_CONFIG) clean

bench-router:
	PG_CONFIG=$(PG_CONFIG) bash test/bench/router.sh

# make test builds with warnings as errors (the harness's make reads PGMQ_WERROR
# from the environment).
test:
	PGMQ_WERROR=1 bash test/harness.sh test

test-long:
	PGMQ_WERROR=1 PGMQ_CRASH_ROUNDS=10 PGMQ_FUZZ_SECONDS=300 bash test/harness.sh test

demo:
	bash test/harness.sh demo

bench:
	bash test/harness.sh bench

bench-latency:
	bash test/harness.sh latency

bench-horizon:
	PATH="$$($(PG_CONFIG) --bindir):$$PATH" bash test/bench/horizon.sh

FUZZ_SECONDS ?= 60
fuzz:
	bash test/fuzz/run.sh $(FUZZ_SECONDS)

# --- Packaging (issue 17) ----------------------------------------------------
# make deb     Debian packages postgresql-<v>-pgmq for every installed server
#              that has its -server-dev package (pg_buildext, debian/), built
#              from the files of this tree (tracked and untracked, not ignored) in build/deb; the .deb files
#              land in build/deb.  Needs debhelper, devscripts and
#              postgresql-server-dev-all.  test/package/deb.sh installs one.
# make dist    dist/pgmq-<version>.zip for PGXN (git archive of HEAD, one
#              top directory pgmq-<version>/ holding META.json), checked.
PGMQ_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" pgmq.control)
DEB_DIR      = build/deb

.PHONY: deb dist meta-check
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/pgmq-$(PGMQ_VERSION)
	git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - | tar -xf - -C $(DEB_DIR)/pgmq-$(PGMQ_VERSION)
	cd $(DEB_DIR)/pgmq-$(PGMQ_VERSION) && \
		PG_SUPPORTED_VERSIONS=installed pg_buildext updatecontrol && \
		PG_SUPPORTED_VERSIONS=installed DEB_BUILD_OPTIONS="nocheck $(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -us -uc -b
	@ls -1 $(DEB_DIR)/*.deb

meta-check:
	python3 test/package/check_meta.py META.json

dist: meta-check
	@git diff --quiet HEAD -- META.json pgmq.control || \
		{ echo "make dist: commit META.json and pgmq.control first (git archive takes HEAD)" >&2; exit 1; }
	mkdir -p dist
	git archive --format=zip --prefix=pgmq-$(PGMQ_VERSION)/ -o dist/pgmq-$(PGMQ_VERSION).zip HEAD
	python3 test/package/check_dist.py dist/pgmq-$(PGMQ_VERSION).zip
