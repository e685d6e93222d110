#!/bin/sh
# The application's role: it logs in and owns nothing; `manage.py migrate` (as the owner)
# grants it what it may do (retail/audit/database_roles.py).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE rastro_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SQL
