# Shortcuts for people who have make; dev.py does the work and needs only Python 3.11+.
#   make run                 set up, migrate, load demo data, run web + worker + beat
#   make test                run the test suite
#   make test ARGS="-k inbox -x"
#   make services / make stop   start / stop the embedded PostgreSQL and Redis

PYTHON ?= python3
ARGS ?=

.PHONY: run test services stop

run:
	$(PYTHON) dev.py run

test:
	$(PYTHON) dev.py test $(ARGS)

services:
	$(PYTHON) dev.py services

stop:
	$(PYTHON) dev.py stop
