#!/usr/bin/env bash
# Runs the Temporal dev server with its state on disk (.data/temporal.db), so workflows, and so the export
# cursor, survive a restart. Web UI: http://localhost:${TEMPORAL_UI_PORT:-8233}
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPORAL="$(bash "$ROOT/scripts/install-temporal.sh")"
mkdir -p "$ROOT/.data"
exec "$TEMPORAL" server start-dev \
  --db-filename "${TEMPORAL_DB_FILENAME:-$ROOT/.data/temporal.db}" \
  --ip 127.0.0.1 \
  --port "${TEMPORAL_PORT:-7233}" \
  --ui-port "${TEMPORAL_UI_PORT:-8233}" \
  --search-attribute ZendeskAccount=Keyword \
  --search-attribute ZendeskCursor=Datetime \
  --search-attribute ZendeskPaused=Bool \
  "$@"
