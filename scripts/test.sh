#!/usr/bin/env bash
# npm test: typecheck, then every test (unit, integration and end-to-end) against the real
# stack, which the vitest global setup finds (environment), starts with testcontainers
# (Docker) or brings up natively (scripts/stack.sh). Ends with "N passed, N failed".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/node.sh   # Node 24 LTS: the machine's, or one installed into .stack/node
sas_ensure_node_modules

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit

mkdir -p .stack
report=.stack/vitest-report.json
rm -f "$report"
status=0
out=.stack/vitest-output.txt
set +e
npx vitest run --reporter=default --reporter=./test/retryReporter.ts --reporter=json --outputFile.json="$report" "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
# Repeat, at the end, every test that passed only on its retry (test/retryReporter.ts).
grep '^FLAKY' "$out" || true

if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$report"
else
  echo "0 passed, 1 failed"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
