#!/usr/bin/env bash
# Finds or builds the Temporal CLI (which embeds the dev server) and prints its path on stdout.
# Order: $TEMPORAL_CLI_PATH, .tools/bin/temporal, `temporal` on PATH, then `go install` into .tools/bin.
set -euo pipefail

VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"

# npm run test:unit sets TEMPORAL_CLI_FORBIDDEN: the unit layer starts no dev server, so a test that asks for the CLI
# fails there instead of finding .tools/bin/temporal.
if [ -n "${TEMPORAL_CLI_FORBIDDEN:-}" ]; then
  echo "TEMPORAL_CLI_FORBIDDEN is set (npm run test:unit sets it): the unit layer uses no Temporal CLI or dev server;" \
    "a test that needs one belongs in test/workflow or test/integration" >&2
  exit 1
fi

usable() { [ -n "${1:-}" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if usable "${TEMPORAL_CLI_PATH:-}"; then echo "$TEMPORAL_CLI_PATH"; exit 0; fi
if usable "$BIN_DIR/temporal"; then echo "$BIN_DIR/temporal"; exit 0; fi
if command -v temporal >/dev/null 2>&1 && usable "$(command -v temporal)"; then command -v temporal; exit 0; fi

GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  cat >&2 <<MSG
The Temporal CLI was not found and Go is not installed, so it cannot be built here.
Either install Go >= 1.25 (https://go.dev/dl/) and run this script again, or install the CLI yourself
(https://docs.temporal.io/cli#install) and put it on PATH or set TEMPORAL_CLI_PATH=/path/to/temporal.
MSG
  exit 1
fi

mkdir -p "$BIN_DIR"
echo "Building the Temporal CLI $VERSION with go install (several minutes the first time; Go caches the build)..." >&2
for v in "$VERSION" v1.5.0 v1.4.1; do
  if GOBIN="$BIN_DIR" "$GO" install "github.com/temporalio/cli/cmd/temporal@$v" >&2; then
    echo "Built the Temporal CLI $v into $BIN_DIR" >&2
    echo "$BIN_DIR/temporal"
    exit 0
  fi
  echo "go install of $v failed; trying the next fallback" >&2
done
echo "Could not build the Temporal CLI with go install (see the errors above)." >&2
exit 1
