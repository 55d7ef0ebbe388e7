#!/usr/bin/env bash
# Creates .venv with the real OpenStack CLI from PyPI (the acceptance tests' client). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
OSC_VERSION="${OSC_VERSION:-10.5.0}"
if [ -x .venv/bin/openstack ] && .venv/bin/openstack --version 2>/dev/null | grep -q " ${OSC_VERSION}$"; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "python-openstackclient==${OSC_VERSION}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/openstack --version
