#!/bin/sh
# Run by the `secrets-check` service of docker-compose.yml before anything else starts: refuses the
# example secrets (none, or the ones written in this repository) unless NEWSMON_INSECURE_DEV=1 says
# this is one person's laptop. Exit 0: go on; exit 1: every other service stays down.
set -u
[ "${NEWSMON_INSECURE_DEV:-}" = "1" ] && { echo "NEWSMON_INSECURE_DEV=1: starting with example secrets (local use only)"; exit 0; }
bad=""
jwt="${AIRFLOW_JWT_SECRET:-}"
if [ -z "$jwt" ] || [ "$jwt" = "newsmon-local-only-jwt-secret" ] || [ ${#jwt} -lt 32 ]; then
    bad="$bad AIRFLOW_JWT_SECRET (at least 32 random characters)"
fi
if [ -z "${AIRFLOW_FERNET_KEY:-}" ]; then
    bad="$bad AIRFLOW_FERNET_KEY (a Fernet key)"
fi
pg="${NEWSMON_POSTGRES_PASSWORD:-}"
if [ -z "$pg" ] || [ "$pg" = "airflow" ]; then
    bad="$bad NEWSMON_POSTGRES_PASSWORD (not 'airflow')"
fi
if [ -n "$bad" ]; then
    echo "refusing to start with example secrets; set these in .env next to docker-compose.yml:$bad" >&2
    echo "  generate them with: sh infra/make-secrets.sh  (or set NEWSMON_INSECURE_DEV=1 on a laptop)" >&2
    exit 1
fi
echo "secrets set"
