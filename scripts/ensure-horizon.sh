#!/usr/bin/env bash
# What the dashboard test (`npm run test:horizon`, docs/horizon.md) needs, installed once, idempotently:
# - Debian's Chromium and ChromeDriver (apt), only when /usr/bin/chromium is missing;
# - .venv-horizon: Horizon from PyPI with every dependency pinned in test/horizon/requirements.txt,
#   reinstalled only when that file changes (its hash is kept in the venv);
# - Horizon's local_settings.py (test/horizon/local_settings.py, read from the environment at start).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
REQ=test/horizon/requirements.txt
STAMP=.venv-horizon/.requirements.sha256
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  python3 -m venv .venv-horizon
  # pip's own exit status decides (set -e); only its notes about this machine's absent local indexes are dropped.
  .venv-horizon/bin/pip install --quiet --disable-pip-version-check -r "$REQ" 2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" >"$STAMP"
fi
SETTINGS="$(.venv-horizon/bin/python -c 'import os, openstack_dashboard; print(os.path.dirname(openstack_dashboard.__file__))')/local/local_settings.py"
cmp -s test/horizon/local_settings.py "$SETTINGS" || cp test/horizon/local_settings.py "$SETTINGS"
