# Set-up and entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

BENCH_VENV := .venv-bench

.PHONY: run test bench bench-env clean sysdeps

# Qt needs a few shared libraries even offscreen; install them when we are root
# and they are missing (Debian/Ubuntu). Elsewhere this is a no-op.
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; \
	  for lib in libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 libglib-2.0.so.0; do \
	    ldconfig -p | grep -q "$$lib" || missing="$$missing $$lib"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing system libraries for Qt:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 >/dev/null; \
	  fi; \
	fi

$(STAMP): pyproject.toml | sysdeps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/cluster-review gui --demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} TF_CPP_MIN_LOG_LEVEL=2 \
	  $(PY) -m pytest -q -p no:cacheprovider

# Peers (clustimage, cleanlab) are compared against in bench/ but are never project
# dependencies: they live in a separate venv that also sees the project's venv.
$(BENCH_VENV)/.stamp: $(STAMP)
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > \
	  "$$($(BENCH_VENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/project-venv.pth"
	$(BENCH_VENV)/bin/python -m pip install -q clustimage cleanlab
	touch $@

bench-env: $(BENCH_VENV)/.stamp

bench: bench-env
	$(BENCH_VENV)/bin/python bench/gtsrb.py
	$(BENCH_VENV)/bin/python bench/mislabels.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info
