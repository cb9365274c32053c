#!/usr/bin/env bash
# Creates the test environment from nothing and runs every test (pytest + nbval).
# Installs, when missing: PostgreSQL, Chromium, a headless Java 17 and poppler-utils (Debian
# packages, for the store, browser, Spark and report-PDF tests), the libraries WeasyPrint needs for PDF reports, uv,
# the project's locked environment, and separate environments for the irrCAC peer (it pins
# pandas<3 and scipy==1.12, so it cannot share ours) and the crowd-kit peer.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)  # Spark local mode (tests/engines)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)  # the report's PDF pages as PNG (tests/report)
dpkg -s libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core >/dev/null 2>&1 \
  || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO mkdir -p /usr/share/man/man1  # the JRE's post-install step needs it on slim images
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# `python3 -m uv` works where a freshly installed `uv` is not on the PATH yet (pyenv)
UV=(uv)
command -v uv >/dev/null 2>&1 || { python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q uv; UV=(python3 -m uv); }
"${UV[@]}" sync --frozen --extra test

PEER=.peers/irrcac
if ! "$PEER/bin/python" -c "import irrCAC" >/dev/null 2>&1; then
  "${UV[@]}" venv -q --python 3.11 "$PEER"
  VIRTUAL_ENV="$PEER" "${UV[@]}" pip install -q "irrcac==0.4.4"
fi
export CALIBRATE_IRRCAC_PYTHON="$PWD/$PEER/bin/python"

# crowd-kit, the Dawid-Skene peer of calibrate.raters: it needs pyarrow and transformers,
# and pyarrow in our environment would change how pandas stores strings, so it gets its own.
CKPEER=.peers/crowdkit
if ! "$CKPEER/bin/python" -c "import crowdkit" >/dev/null 2>&1; then
  "${UV[@]}" venv -q --python 3.11 "$CKPEER"
  VIRTUAL_ENV="$CKPEER" "${UV[@]}" pip install -q "crowd-kit==1.4.2"
fi
export CALIBRATE_CROWDKIT_PYTHON="$PWD/$CKPEER/bin/python"

"${UV[@]}" run --no-sync pytest "$@"
