#!/usr/bin/env bash
# The ticket sink's database, apart from Temporal's. The postgres image runs this once, as POSTGRES_USER over the Unix
# socket, when it initializes an empty data directory (docker-compose.yml mounts it in /docker-entrypoint-initdb.d).
#
#   role exporter (SINK_DB_PASSWORD): may log in, owns database tickets and nothing else; no superuser, no
#     CREATEDB, no CREATEROLE, and no CONNECT on Temporal's databases.
#   databases temporal and temporal_visibility: created here empty, owned by POSTGRES_USER and closed to every other
#     role; the temporal-schema job creates their tables.
#
# Safe to run again, and the way to bring a volume initialized before this layout (tickets owned by POSTGRES_USER)
# over, or to apply a changed SINK_DB_PASSWORD (recreate the container first, so that it has the new value):
#   docker compose up -d postgresql
#   docker compose exec postgresql bash /docker-entrypoint-initdb.d/10-sink-database.sh
set -Eeo pipefail

if [ -z "${SINK_DB_PASSWORD:-}" ]; then
  echo 'SINK_DB_PASSWORD is not set: the ticket sink role needs a password of its own' >&2
  exit 1
fi
if [ "${POSTGRES_USER:-postgres}" = exporter ]; then
  echo 'POSTGRES_USER is "exporter", the name of the ticket sink role: choose another name for Temporal' >&2
  exit 1
fi

# Values reach SQL as psql variables (:'name' quotes a literal), never spliced into the statements by the shell.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  --set=sink_password="$SINK_DB_PASSWORD" --set=admin="${POSTGRES_USER:-postgres}" <<'SQL'
SELECT 'CREATE ROLE exporter' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exporter') \gexec
ALTER ROLE exporter LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'sink_password';

SELECT 'CREATE DATABASE tickets OWNER exporter'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tickets') \gexec
ALTER DATABASE tickets OWNER TO exporter;
REVOKE ALL ON DATABASE tickets FROM PUBLIC;

SELECT format('CREATE DATABASE %I OWNER %I', name, :'admin')
  FROM (VALUES ('temporal'), ('temporal_visibility')) AS temporal_databases (name)
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \gexec
REVOKE ALL ON DATABASE temporal, temporal_visibility FROM PUBLIC;
SQL

# A volume from before: the sink's tables were created by POSTGRES_USER; hand them to exporter.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname tickets <<'SQL'
SELECT format('ALTER %s %I.%I OWNER TO exporter', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S') AND pg_get_userbyid(c.relowner) <> 'exporter'
    AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
\gexec
SQL
