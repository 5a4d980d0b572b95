#!/usr/bin/env bash
# Stop everything the quickstart started: demo feed server, mail catcher, Airflow, Elasticsearch.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
"$PY" infra/demo/serve.py stop --port 8765
"$PY" infra/mailcatcher.py stop --port 2525
[ -x .venv/bin/newsmon ] && .venv/bin/newsmon airflow down 2>/dev/null
bash infra/elasticsearch.sh stop --name local
bash infra/elasticsearch.sh stop --name secure
