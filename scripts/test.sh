#!/usr/bin/env bash
# Installs what the tests need (Debian's Prometheus and Alertmanager, the Python
# test extras in .venv) and runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
# the global view: rules evaluated by VictoriaMetrics' vmalert (tests/test_global_view_stores.py)
command -v victoria-metrics >/dev/null || missing+=(victoria-metrics)
command -v vmalert >/dev/null || missing+=(victoria-metrics)
# aivitals report: the page in a real browser, the PDF read back, and Pango for WeasyPrint
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
ldconfig -p | grep -q libpangoft2-1.0.so.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
# the sidecar's PostgreSQL store: a real server started by the tests (initdb/postgres, never the system service)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u)
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/ruff check src tests benchmarks examples
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
