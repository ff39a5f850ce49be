# Set-up and entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

BENCH_VENV := .venv-bench

.PHONY: run test test-fast bench bench-env clean sysdeps

# System libraries Qt needs, as soname:Debian-package. Offscreen Qt needs the first six;
# the window's xcb platform plugin needs the rest (`ldd` on PySide6's
# Qt/plugins/platforms/libqxcb.so and the Qt/lib/libQt6XcbQpa.so.6 it links; keep in step
# with gui/platform_check.py). Then the programs tests/test_gui_real_display.py drives.
QT_LIBS := libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0 \
  libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 libglib-2.0.so.0:libglib2.0-0 \
  libxcb.so.1:libxcb1 libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4 \
  libxcb-image.so.0:libxcb-image0 libxcb-keysyms.so.1:libxcb-keysyms1 \
  libxcb-randr.so.0:libxcb-randr0 libxcb-render.so.0:libxcb-render0 \
  libxcb-render-util.so.0:libxcb-render-util0 libxcb-shape.so.0:libxcb-shape0 \
  libxcb-shm.so.0:libxcb-shm0 libxcb-sync.so.1:libxcb-sync1 libxcb-util.so.1:libxcb-util1 \
  libxcb-xfixes.so.0:libxcb-xfixes0 libxcb-xkb.so.1:libxcb-xkb1 \
  libxkbcommon-x11.so.0:libxkbcommon-x11-0 libX11.so.6:libx11-6 libX11-xcb.so.1:libx11-xcb1 \
  libfreetype.so.6:libfreetype6
X_TOOLS := Xvfb:xvfb xdotool:xdotool import:imagemagick

# Install what is missing when we are root on Debian/Ubuntu; quiet, and no apt-get at all
# when nothing is missing. Elsewhere this is a no-op (the window then says what to install).
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  libs="$$(ldconfig -p 2>/dev/null)"; missing=""; \
	  for pair in $(QT_LIBS); do \
	    printf '%s\n' "$$libs" | grep -q "[[:space:]]$${pair%%:*} " || missing="$$missing $${pair#*:}"; \
	  done; \
	  for pair in $(X_TOOLS); do \
	    command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing system packages for Qt:$$missing"; \
	    log="$$(mktemp)"; \
	    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends $$missing; } >"$$log" 2>&1; then \
	      cat "$$log" >&2; echo "warning: could not install$$missing; the window may not open" >&2; \
	    fi; rm -f "$$log"; \
	  fi; \
	fi

$(STAMP): pyproject.toml | sysdeps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel  # the wheel test builds without isolation
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/cluster-review gui --demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} TF_CPP_MIN_LOG_LEVEL=2 \
	  $(PY) -m pytest -q -p no:cacheprovider

# The edit loop: everything except the tests marked slow (model training, wheel build).
test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} TF_CPP_MIN_LOG_LEVEL=2 \
	  $(PY) -m pytest -q -p no:cacheprovider -m "not slow"

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
