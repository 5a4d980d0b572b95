#!/usr/bin/env bash
# One command from a fresh clone to a working demo (no Docker, no internet beyond the
# package registries): virtualenv + install, local Elasticsearch, local SMTP catcher,
# the demo feed server, then `newsmon demo` (the main job over the demo feeds, twice).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "newsmon needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "[setup] creating .venv"
    "$PYTHON" -m venv .venv
fi
echo "[setup] installing newsmon and its pinned dependencies into .venv"
# The lock pins every package (Airflow included) to versions tested together.
.venv/bin/pip install -q --disable-pip-version-check -r requirements/airflow.lock -e ".[test]"

echo "[setup] Elasticsearch (downloaded once through Maven into ~/.cache/newsmon)"
bash infra/elasticsearch.sh fetch
bash infra/elasticsearch.sh start --name local --port 9200

exec .venv/bin/newsmon demo
