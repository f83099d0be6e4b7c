#!/usr/bin/env bash
# Runs the Temporal dev server with its state on disk (.data/temporal.db), so workflows, and so the export
# cursor, survive a restart; registers the search attributes. Web UI: http://localhost:${TEMPORAL_UI_PORT:-8233}
# Builds the Temporal CLI first if needed (scripts/install-temporal.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install-temporal.sh >/dev/null
exec node -r ts-node/register src/dev-server.ts
