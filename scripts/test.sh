#!/usr/bin/env bash
# Runs the test suite (all of it, or the spec globs given) and ends with one plain line
# `tests: N passed, N failed[, N skipped]` taken from mocha's results; exits non-zero when anything failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Node reads NODE_EXTRA_CA_CERTS only at start-up: the simulator's CA must be trusted before mocha begins.
if [[ -f .local/certs/ca.pem ]]; then
  export NODE_EXTRA_CA_CERTS="$root/.local/certs/ca.pem"
fi
# A storage or Graph request that stalls fails after this and is retried, well inside a test's own timeout (default 120 s).
export STORAGE_REQUEST_TIMEOUT_SECONDS="${STORAGE_REQUEST_TIMEOUT_SECONDS:-15}"
export GRAPH_REQUEST_TIMEOUT_SECONDS="${GRAPH_REQUEST_TIMEOUT_SECONDS:-30}"
[[ $# -gt 0 ]] || set -- 'test/**/*.test.ts'
# TEST_IGNORE: comma-separated globs of spec files to leave out; TEST_SKIP_TITLES: a pattern of test titles to leave
# out (CI's second run, under Node 24, leaves what tests recovery, scale and the browser to the first).
ignore=()
IFS=',' read -ra globs <<<"${TEST_IGNORE:-}"
for glob in "${globs[@]}"; do [[ -n "$glob" ]] && ignore+=(--ignore "$glob"); done
[[ -z "${TEST_SKIP_TITLES:-}" ]] || ignore+=(--grep "$TEST_SKIP_TITLES" --invert)
out="$(mktemp)"
npx mocha --reporter ./test/helpers/summary-reporter.cjs "${ignore[@]}" "$@" | tee "$out"
status=${PIPESTATUS[0]}
if ! grep -qE '^tests: [0-9]+ passed, [0-9]+ failed' "$out"; then
  # mocha died before its reporter could count (e.g. a test file that does not load): say so in CI's terms.
  echo "mocha exited with status $status before reporting results"
  echo "tests: 0 passed, 1 failed"
  status=1
fi
rm -f "$out"
exit $status
