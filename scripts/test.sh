#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run every test,
# browser tests included. Safe to run again: each step skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium drives the browser tests (Playwright cannot download one here).
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Chromium (Debian package)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
echo "== installing Python requirements"
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -r requirements-dev.txt

# MNIST beside the checkout, unless the caller points elsewhere.
export MNIST_DIR="${MNIST_DIR:-$(cd .. && pwd)/shared/data/mnist}"

echo "== ruff"
.venv/bin/ruff check .
echo "== pytest (MNIST_DIR=$MNIST_DIR)"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
