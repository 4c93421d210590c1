#!/usr/bin/env bash
# Installs what a fresh clone lacks, and nothing it already has:
#   - npm packages, exactly as package-lock.json says (dependencies' install scripts are never run, so the
#     result is the same whether or not this npm allows them; nothing we use needs them);
#   - the Temporal CLI (its `server start-dev` is a whole Temporal server with SQLite and the Web UI) and
#     fake-gcs-server, built from the Go module proxy at pinned versions into .local/bin;
#   - for the 'cluster' stack profile (Temporal on PostgreSQL, as operators self-host it): the Temporal server, its
#     SQL schema tool and the Web UI server (the version the CLI embeds), likewise;
#   - the local certificate authority and the simulator's TLS certificate in .local/certs.
# Usage: scripts/setup.sh [--quiet]
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1
FAKE_GCS_VERSION=v1.55.1
# The server the CLI v1.5.1 dev server embeds, and the UI server version it embeds too (the CLI's go.mod).
TEMPORAL_SERVER_VERSION=v1.29.1
TEMPORAL_UI_SERVER_VERSION=v2.42.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${ENTRA_BACKUP_BIN_DIR:-$root/.local/bin}"
quiet=false
[[ "${1:-}" == "--quiet" ]] && quiet=true

say() { $quiet || echo "setup: $*"; }
fail() { echo "setup: error: $*" >&2; exit 1; }

cd "$root"
command -v node >/dev/null || fail "Node.js 20 is required (node not found on PATH)"
command -v npm >/dev/null || fail "npm is required (npm not found on PATH)"

# npm packages: reinstall only when the lock file changed since the last install.
stamp="node_modules/.entra-backup-lock-hash"
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  say "installing npm packages (npm ci --ignore-scripts)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
else
  say "npm packages up to date"
fi

# Built servers are kept per version in a machine-wide cache too, so a fresh clone on the same machine (CI) copies
# them instead of building again.
cache_dir="${ENTRA_BACKUP_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/entra-backup/bin}"

# build_go_tool NAME PACKAGE VERSION [BUILT_NAME]: BUILT_NAME is what `go install` names the binary (the last
# element of the package path) when it is not NAME, e.g. the server's and the UI server's are both 'server'.
build_go_tool() {
  local name="$1" module="$2" version="$3" built="${4:-$1}"
  local version_file="$bin_dir/$name.version"
  local cached="$cache_dir/$name-$version"
  if [[ -x "$bin_dir/$name" && -f "$version_file" && "$(cat "$version_file")" == "$module@$version" ]]; then
    say "$name $version already built"
    return
  fi
  mkdir -p "$bin_dir"
  if [[ ! -x "$cached" ]]; then
    command -v go >/dev/null || fail "Go is required to build $name $version from the Go module proxy (go not found on PATH; install Go 1.25 or newer)"
    echo "setup: building $name $version with 'go install $module@$version' (a cold build takes a few minutes)"
    local tmp
    tmp="$(mktemp -d)"
    GOBIN="$tmp" GOFLAGS=-mod=mod go install "$module@$version" || fail "building $name failed"
    mkdir -p "$cache_dir"
    mv "$tmp/$built" "$cached.tmp.$$" && mv "$cached.tmp.$$" "$cached"
    rm -rf "$tmp"
  else
    say "$name $version found in $cache_dir"
  fi
  cp "$cached" "$bin_dir/$name"
  echo "$module@$version" > "$version_file"
}

build_go_tool temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION"
build_go_tool fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKE_GCS_VERSION"
build_go_tool temporal-server go.temporal.io/server/cmd/server "$TEMPORAL_SERVER_VERSION" server
build_go_tool temporal-sql-tool go.temporal.io/server/cmd/tools/sql "$TEMPORAL_SERVER_VERSION" sql
build_go_tool temporal-ui-server github.com/temporalio/ui-server/v2/cmd/server "$TEMPORAL_UI_SERVER_VERSION" server

if [[ -f simulator/tls/generate.ts ]]; then
  command -v openssl >/dev/null || fail "openssl is required to create the local certificate authority"
  say "local certificate authority: $(npx tsx simulator/tls/generate.ts "$root/.local/certs")"
fi
# The portal's browser tests drive Debian's chromium (test/helpers/browser.ts). Installed only where we may (root with
# apt-get, as in CI); elsewhere those tests are skipped with a message saying how to get it.
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    echo "setup: installing chromium for the browser tests (apt-get)"
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null \
      || echo "setup: warning: chromium could not be installed; the browser tests will be skipped" >&2
  else
    say "chromium not found: the browser tests will be skipped (as root: apt-get install -y --no-install-recommends chromium)"
  fi
fi
say "done"
