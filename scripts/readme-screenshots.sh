#!/usr/bin/env bash
# Regenerates the README's portal screenshots: runs the browser tests (which save a screenshot of every page under
# .local/screenshots) and copies the ones the README shows into docs/images. `--copy-only` skips the test run and
# copies what the last one saved. The pictures are what the tests saw, never edited by hand.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shots=.local/screenshots
# test screenshot name → README image
declare -A readme=(
  [04-dashboard]=portal-dashboard
  [03-system-status]=portal-system-status
  [11-detail-object-sidebar]=portal-detail-sidebar
  [12-detail-diff]=portal-detail-diff
)
if [[ "${1:-}" != "--copy-only" ]]; then
  [[ -x /usr/bin/chromium ]] || { echo "readme-screenshots: chromium is needed (npm run setup installs it as root)" >&2; exit 1; }
  bash scripts/test.sh test/browser/portal.test.ts test/browser/detail.test.ts
fi
for name in "${!readme[@]}"; do
  [[ -f "$shots/$name.png" ]] || { echo "readme-screenshots: $shots/$name.png is missing: run the browser tests" >&2; exit 1; }
done
mkdir -p docs/images
for name in "${!readme[@]}"; do
  cp "$shots/$name.png" "docs/images/${readme[$name]}.png"
  echo "docs/images/${readme[$name]}.png ← $shots/$name.png"
done
