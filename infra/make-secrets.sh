#!/bin/sh
# Writes infra/.env with fresh random secrets for docker-compose.yml (Airflow JWT secret, Fernet key,
# Postgres password). Refuses to overwrite an existing file: delete it yourself to rotate.
set -eu
env_file="$(dirname "$0")/.env"
if [ -e "$env_file" ]; then
    echo "$env_file exists; not overwriting it" >&2
    exit 1
fi
python3 - "$env_file" <<'PY'
import base64, os, secrets, sys
with open(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
    f.write(f"AIRFLOW_JWT_SECRET={secrets.token_hex(32)}\n")
    f.write(f"AIRFLOW_FERNET_KEY={base64.urlsafe_b64encode(os.urandom(32)).decode()}\n")
    f.write(f"NEWSMON_POSTGRES_PASSWORD={secrets.token_hex(16)}\n")
PY
echo "wrote $env_file (mode 600)"
