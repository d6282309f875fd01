# Makefile for the queue extension (PGXS)
#
# Copyright (c) 2026, the queue authors

EXTENSION = queue
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" queue.control)

MODULE_big = queue
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script and the update scripts into this version are built
# from sql/ by tools/assemble (DESIGN.md, "The SQL sources"); the scripts
# of released versions are kept as they were released.
UPDATES = $(wildcard sql/updates/*--$(EXTVERSION).sql)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql \
	$(patsubst sql/updates/%.sql,sql/$(EXTENSION)--%.sql,$(UPDATES))
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
SQL_PARTS = sql/functions.sql $(wildcard sql/functions/*.sql) sql/views.sql

# pg_regress suites: test/sql/NAME.sql, expected output in ./expected/NAME.out
REGRESS = $(sort $(notdir $(basename $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)

# isolation specs: test/isolation/specs/NAME.spec, expected in
# test/isolation/expected/NAME.out (pg_isolation_regress looks there)
ISOLATION = $(sort $(notdir $(basename $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=$(EXTENSION)

# Perl TAP tests (PostgreSQL::Test::Cluster)
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = results output_iso tmp_check log regression.diffs regression.out sql/*.tmp

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -Werror -Wall -Wmissing-prototypes -Wpointer-arith \
	-Wendif-labels -Wmissing-format-attribute -Wformat-security

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track headers
$(OBJS): src/queue.h

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql $(SQL_PARTS) tools/assemble
	tools/assemble $< > $@.tmp && mv $@.tmp $@

sql/$(EXTENSION)--%--$(EXTVERSION).sql: sql/updates/%--$(EXTVERSION).sql $(SQL_PARTS) tools/assemble
	tools/assemble --replace $< > $@.tmp && mv $@.tmp $@

.PHONY: pgtap bench bench-report demo test-all

# pgTAP suites against the running server (PGHOST/PGPORT from the environment)
pgtap:
	pg_prove --ext .sql test/pgtap/

bench:
	bench/run

# bench/REPORT.md and its plots, from the runners (about 17 minutes, on a
# quiet machine); SMOKE=1: the shortest runs, reported in bench/out/smoke/
bench-report:
	bench/report $(if $(filter-out 0,$(SMOKE)),--smoke)

demo:
	examples/demo.sh

test-all:
	test/run-all.sh
