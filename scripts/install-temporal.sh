#!/usr/bin/env bash
# Finds or installs the Temporal CLI (which embeds the dev server) and prints its path on stdout, and nothing else
# there: callers read it (src/dev-server.ts, scripts/dev-server.sh, .ci/run). Progress and errors go to stderr.
#
# Order:
#   1. an existing binary: $TEMPORAL_CLI_PATH, then temporal in the install directory, then `temporal` on PATH;
#   2. the official release archive for this platform, checked against the release's published sha256 checksums:
#      one bounded attempt (connect timeout 5 s), which fails at once where there is no network;
#   3. `go install` into the install directory (Go >= 1.25; several minutes the first time), the last resort.
# When none works: one message on stderr saying what each step found and what to install, and exit 1.
#
# Environment:
#   TEMPORAL_CLI_PATH              a CLI to use as it is
#   TEMPORAL_CLI_VERSION           the version to install (default v1.5.1)
#   TEMPORAL_CLI_INSTALL_DIR       where to install it; default: .tools/bin in a checkout (a .git entry at the
#                                  root), else ${XDG_CACHE_HOME:-~/.cache}/zendesk-export/bin (an installed package's
#                                  directory may be read-only and is replaced on upgrade)
#   TEMPORAL_CLI_RELEASE_URL       where the releases are (default https://github.com/temporalio/cli/releases/download)
#   TEMPORAL_CLI_DOWNLOAD_TIMEOUT  seconds each download may take in all (default 120)
#   TEMPORAL_CLI_SKIP_DOWNLOAD=1   skip the release archive: straight to go install
#   GOROOT                         where Go is looked for when `go` is not on PATH (default /usr/local/go)
set -euo pipefail

VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# npm run test:unit sets TEMPORAL_CLI_FORBIDDEN: the unit layer starts no dev server, so a test that asks for the CLI
# fails there instead of finding .tools/bin/temporal.
if [ -n "${TEMPORAL_CLI_FORBIDDEN:-}" ]; then
  echo "TEMPORAL_CLI_FORBIDDEN is set (npm run test:unit sets it): the unit layer uses no Temporal CLI or dev server;" \
    "a test that needs one belongs in test/workflow or test/integration" >&2
  exit 1
fi

if [ -n "${TEMPORAL_CLI_INSTALL_DIR:-}" ]; then
  BIN_DIR="$TEMPORAL_CLI_INSTALL_DIR"
elif [ -e "$ROOT/.git" ]; then
  BIN_DIR="$ROOT/.tools/bin"
else
  BIN_DIR="${XDG_CACHE_HOME:-${HOME:?neither HOME nor XDG_CACHE_HOME is set: set TEMPORAL_CLI_INSTALL_DIR}/.cache}"
  BIN_DIR="$BIN_DIR/zendesk-export/bin"
fi

usable() { [ -n "${1:-}" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

# 1. An existing binary.
if usable "${TEMPORAL_CLI_PATH:-}"; then echo "$TEMPORAL_CLI_PATH"; exit 0; fi
if usable "$BIN_DIR/temporal"; then echo "$BIN_DIR/temporal"; exit 0; fi
if command -v temporal >/dev/null 2>&1 && usable "$(command -v temporal)"; then command -v temporal; exit 0; fi

# What each step found, for the one message printed when none worked.
if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  TRIED=("existing binary: TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH does not run; none in $BIN_DIR or on PATH")
else
  TRIED=("existing binary: none (TEMPORAL_CLI_PATH unset, none in $BIN_DIR or on PATH)")
fi

case "$(uname -s)" in
  Linux) OS=linux ;;
  Darwin) OS=darwin ;;
  *) OS="" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) ARCH="" ;;
esac
RELEASE_URL="${TEMPORAL_CLI_RELEASE_URL:-https://github.com/temporalio/cli/releases/download}"
ARCHIVE="temporal_cli_${VERSION#v}_${OS:-<os>}_${ARCH:-<arch>}.tar.gz"
ARCHIVE_URL="$RELEASE_URL/v${VERSION#v}/$ARCHIVE"
# The release's checksums: temporalio/cli's .goreleaser.yml (at tag v1.5.1 and on main) sets
# `checksum: name_template: "checksums.txt", algorithm: sha256`, one "<sha256>  <archive>" line per asset.
CHECKSUMS_URL="$RELEASE_URL/v${VERSION#v}/checksums.txt"
TIMEOUT="${TEMPORAL_CLI_DOWNLOAD_TIMEOUT:-120}"

WORK=""
PARTIAL=""
NO_NETWORK=""
# shellcheck disable=SC2317 # run by the trap below
cleanup() {
  [ -z "$WORK" ] || rm -rf "$WORK"
  [ -z "$PARTIAL" ] || rm -f "$PARTIAL"
}
trap cleanup EXIT

# fetch URL FILE: one bounded download; on failure sets PROBLEM to a few words and returns 1.
fetch() {
  local url="$1" out="$2" err rc=0 host what
  err="$(curl --fail --silent --show-error --location --connect-timeout 5 --max-time "$TIMEOUT" \
    --output "$out" "$url" 2>&1)" || rc=$?
  [ "$rc" -eq 0 ] && return 0
  host="${url#*://}"
  host="${host%%/*}"
  case "$rc" in
    5 | 6 | 7)
      NO_NETWORK=1
      what="$host unreachable"
      ;;
    28)
      NO_NETWORK=1
      what="$host too slow (no answer in 5 s, or not done in ${TIMEOUT} s: TEMPORAL_CLI_DOWNLOAD_TIMEOUT)"
      ;;
    22) what="$url refused" ;;
    *) what="$url failed" ;;
  esac
  err="$(printf '%s\n' "$err" | sed -n 's/^curl: ([0-9]*) //p' | head -n 1)"
  PROBLEM="$what (curl exit $rc${err:+: $err})"
  return 1
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

# download: the release archive, checked, its temporal moved into BIN_DIR; on failure sets PROBLEM, returns 1.
download() {
  if [ -z "$OS" ] || [ -z "$ARCH" ]; then
    PROBLEM="no release archive for $(uname -s)/$(uname -m)"
    return 1
  fi
  if ! command -v curl >/dev/null 2>&1; then
    PROBLEM="curl not installed"
    return 1
  fi
  if ! command -v sha256sum >/dev/null 2>&1 && ! command -v shasum >/dev/null 2>&1; then
    PROBLEM="neither sha256sum nor shasum is installed to check the archive"
    return 1
  fi
  case "$TIMEOUT" in
    '' | *[!0-9]* | 0)
      PROBLEM="TEMPORAL_CLI_DOWNLOAD_TIMEOUT=$TIMEOUT is not a whole number of seconds"
      return 1
      ;;
  esac
  if ! WORK="$(mktemp -d "${TMPDIR:-/tmp}/temporal-cli.XXXXXX")"; then
    PROBLEM="cannot create a temporary directory in ${TMPDIR:-/tmp}"
    return 1
  fi
  # The checksums first: they are small, and without them the archive is of no use.
  fetch "$CHECKSUMS_URL" "$WORK/checksums.txt" || return 1
  local expected actual entry
  expected="$(awk -v f="$ARCHIVE" '$2 == f || $2 == "*" f { print $1; exit }' "$WORK/checksums.txt")"
  if [ -z "$expected" ]; then
    PROBLEM="checksums.txt of ${VERSION} has no line for $ARCHIVE"
    return 1
  fi
  echo "Downloading the Temporal CLI ${VERSION} from $ARCHIVE_URL ..." >&2
  fetch "$ARCHIVE_URL" "$WORK/$ARCHIVE" || return 1
  actual="$(sha256 "$WORK/$ARCHIVE")"
  if [ "$actual" != "$expected" ]; then
    PROBLEM="checksum mismatch, archive refused ($ARCHIVE has sha256 $actual, checksums.txt says $expected)"
    return 1
  fi
  entry="$(tar -tzf "$WORK/$ARCHIVE" 2>/dev/null | grep -E '(^|/)temporal$' | head -n 1 || true)"
  if [ -z "$entry" ] || ! tar -xzf "$WORK/$ARCHIVE" -C "$WORK" "$entry" 2>/dev/null; then
    PROBLEM="$ARCHIVE holds no temporal binary"
    return 1
  fi
  # Into place atomically: a copy under a temporary name in BIN_DIR (so it runs from where it will stay, even when
  # TMPDIR is mounted noexec), checked, then renamed over the final name.
  if ! mkdir -p "$BIN_DIR" 2>/dev/null || ! PARTIAL="$(mktemp "$BIN_DIR/.temporal.XXXXXX" 2>/dev/null)" ||
    ! cp "$WORK/$entry" "$PARTIAL" 2>/dev/null; then
    PROBLEM="cannot write to $BIN_DIR (set TEMPORAL_CLI_INSTALL_DIR)"
    return 1
  fi
  chmod 755 "$PARTIAL"
  if ! "$PARTIAL" --version >/dev/null 2>&1; then
    PROBLEM="the temporal in $ARCHIVE does not run here (temporal --version failed)"
    return 1
  fi
  if ! mv -f "$PARTIAL" "$BIN_DIR/temporal" 2>/dev/null; then
    PROBLEM="cannot write to $BIN_DIR (set TEMPORAL_CLI_INSTALL_DIR)"
    return 1
  fi
  PARTIAL=""
  return 0
}

GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x "${GOROOT:-/usr/local/go}/bin/go" ] && GO="${GOROOT:-/usr/local/go}/bin/go"

# 2. The official release archive.
PROBLEM=""
if [ -n "${TEMPORAL_CLI_SKIP_DOWNLOAD:-}" ]; then
  TRIED+=("download: skipped (TEMPORAL_CLI_SKIP_DOWNLOAD is set)")
elif download; then
  echo "Installed the Temporal CLI ${VERSION} from the release archive into $BIN_DIR" >&2
  echo "$BIN_DIR/temporal"
  exit 0
else
  TRIED+=("download: $PROBLEM")
  [ -n "$GO" ] && echo "The release archive could not be used (download: $PROBLEM); trying go install." >&2
fi

# 3. go install, the last resort.
if [ -z "$GO" ]; then
  TRIED+=("go install: Go is not installed (not on PATH, nor in ${GOROOT:-/usr/local/go}/bin)")
  GO_ADVICE="install Go >= 1.25 (https://go.dev/dl/) and run this again (npm run install-temporal): it builds the
    CLI into $BIN_DIR (several minutes once);"
else
  built=""
  if mkdir -p "$BIN_DIR" 2>/dev/null; then
    echo "Building the Temporal CLI $VERSION with go install (several minutes the first time; Go caches the build)..." >&2
    for v in "$VERSION" v1.5.0 v1.4.1; do
      if GOBIN="$BIN_DIR" "$GO" install "github.com/temporalio/cli/cmd/temporal@$v" >&2; then
        built="$v"
        break
      fi
      echo "go install of $v failed; trying the next fallback" >&2
    done
    [ -n "$built" ] || TRIED+=("go install ($GO): failed for $VERSION, v1.5.0 and v1.4.1 (its errors are above)")
  else
    TRIED+=("go install: cannot create $BIN_DIR (set TEMPORAL_CLI_INSTALL_DIR)")
  fi
  if [ -n "$built" ]; then
    echo "Built the Temporal CLI $built into $BIN_DIR" >&2
    echo "$BIN_DIR/temporal"
    exit 0
  fi
  GO_ADVICE="let go install reach the Go module proxy (proxy.golang.org, or set GOPROXY), with Go >= 1.25, and run
    this again (npm run install-temporal);"
fi

RELEASE_HOST="${RELEASE_URL#*://}"
NETWORK_ADVICE=""
[ -z "$NO_NETWORK" ] || NETWORK_ADVICE="
  - run this again where ${RELEASE_HOST%%/*} is reachable (curl honours HTTPS_PROXY): it downloads the
    release archive, nothing else needed;"
cat >&2 <<MSG
The Temporal CLI ${VERSION} could not be found or installed. Tried:
$(printf '  - %s\n' "${TRIED[@]}")
To fix it, do one of:${NETWORK_ADVICE}
  - ${GO_ADVICE}
  - install the Temporal CLI yourself and put \`temporal\` on PATH or set TEMPORAL_CLI_PATH=/path/to/temporal:
    https://docs.temporal.io/cli#install, or the binary in $ARCHIVE_URL
MSG
exit 1
