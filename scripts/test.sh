#!/usr/bin/env bash
# The whole test suite: format/lint, type-check, then every test file under test/.
# Runs on the project's Node 24 (npm puts node_modules/.bin first on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== lint (biome)"
biome check .
echo "== type-check (tsc)"
tsc -p .
echo "== tests (node --test)"
exec node --test --test-reporter=spec --test-concurrency=2 "test/**/*.test.ts"
