#!/bin/sh
# Adds fresh random secrets for docker-compose.yml to infra/.env (Airflow JWT secret, Fernet key,
# Postgres password). Keys already in the file are kept: delete a line yourself to rotate it.
set -eu
env_file="$(dirname "$0")/.env"
python3 - "$env_file" <<'PY'
import base64, os, secrets, sys
path = sys.argv[1]
have = set()
if os.path.exists(path):
    with open(path) as f:
        have = {line.split("=", 1)[0].strip() for line in f if "=" in line}
fresh = {
    "AIRFLOW_JWT_SECRET": secrets.token_hex(32),
    "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "NEWSMON_POSTGRES_PASSWORD": secrets.token_hex(16),
}
missing = {k: v for k, v in fresh.items() if k not in have}
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
os.chmod(path, 0o600)
with open(fd, "a") as f:
    f.writelines(f"{k}={v}\n" for k, v in missing.items())
print(f"{path}: added {', '.join(missing) or 'nothing (every secret is already set)'}")
PY
