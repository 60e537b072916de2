#!/usr/bin/env bash
# The main job on the bundled examples: install, ingest, validate, query, export.
#   bash examples/run.sh
# Output goes to examples/out/ (store, Turtle export, validation report).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/trialkg ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet .
fi
export PATH="$PWD/.venv/bin:$PATH"
OUT=examples/out
export TRIALKG_STORE="$OUT/store"
rm -rf "$OUT"
mkdir -p "$OUT"

# Full MeSH / ChEBI / DrugBank / CL / UBERON tables, where the shared vocabulary
# directory is present (TRIALKG_SHARED, or ../shared beside the checkout); the
# curated cell-therapy vocabulary that ships with trialkg is always used.
SHARED=${TRIALKG_SHARED:-../shared}
if [ -d "$SHARED/vocab" ]; then
  echo "== trialkg vocab import $SHARED/vocab"
  trialkg vocab import "$SHARED/vocab"
fi

echo "== trialkg ingest examples/pages examples/records"
trialkg ingest examples/pages examples/records

echo "== trialkg stats"
trialkg stats

echo "== trialkg show NCT03392311"
trialkg show NCT03392311

echo "== trialkg validate (report in $OUT/validation.txt)"
if trialkg validate > "$OUT/validation.txt"; then echo "all trial graphs conform"; else
  echo "validation found problems (exit $?):"; head -20 "$OUT/validation.txt"; fi

echo "== trialkg query phase-distribution"
trialkg query phase-distribution
echo "== trialkg query cell-sources-by-condition --param condition=Psoriasis"
trialkg query cell-sources-by-condition --param condition=Psoriasis
echo "== trialkg query cell-therapy-doses --param per_kg=true (MSC doses per kg, by phase)"
trialkg query cell-therapy-doses --param cell_type=CL:0000134 --param per_kg=true --format csv

echo "== trialkg export --format turtle -o $OUT/trialkg.ttl"
trialkg export --format turtle -o "$OUT/trialkg.ttl"
echo "done: store in $OUT/store, Turtle in $OUT/trialkg.ttl"
