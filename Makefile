# pgmq: PGXS build, install and test entry points.
#
# make / make install        build and install into the server pg_config names
# make installcheck          pg_regress + isolation (+ TAP) against a running server
# make test                  everything, on a throwaway cluster per PostgreSQL version
#                            (PG_VERSIONS="15 17 18" by default; 17 is compiled only;
#                            18 is built once per machine by test/pg/build_pg18.sh)
# make demo                  the producer/consumer walkthrough on a throwaway cluster
#                            (PostgreSQL 15; PG_VERSION=18 for the other)
# make bench [PG_VERSION=18] the benchmark, on 15 unless told
# make fuzz                  libFuzzer on the pure-C validators for FUZZ_SECONDS (60)
# make test-long             make test with 10 crash rounds and 300 s of fuzzing (not in CI)
# make bench-latency         read_with_poll wakeup latency, preloaded vs polling
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

PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter
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

.PHONY: test test-long demo bench bench-latency fuzz
test:
	bash test/harness.sh test

test-long:
	PGMQ_CRASH_ROUNDS=10 PGMQ_FUZZ_SECONDS=300 bash test/harness.sh test

demo:
	bash test/harness.sh demo

bench:
	bash test/harness.sh bench

bench-latency:
	bash test/harness.sh latency

FUZZ_SECONDS ?= 60
fuzz:
	bash test/fuzz/run.sh $(FUZZ_SECONDS)
