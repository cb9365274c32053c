#!/usr/bin/env bash
# Re-executes the analysis notebooks in place against a fresh demo workspace, so their
# committed outputs (checked by nbval) follow the current code. The scoring and
# facilitator notebooks (01, 05) are widget apps and are committed without outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
ws=$(mktemp -d)/demo
uv run --no-sync calibrate demo --workspace "$ws" --no-report >/dev/null
export CALIBRATE_WORKSPACE="$ws"
for nb in notebooks/00_kijkkader.ipynb notebooks/02_overeenstemming.ipynb notebooks/03_fasen_en_oordelen.ipynb notebooks/04_kalibreersessie.ipynb notebooks/06_betrouwbaarheid.ipynb notebooks/07_beoordelaarsmodellen.ipynb; do
  uv run --no-sync jupyter nbconvert --to notebook --execute --inplace \
    --ClearMetadataPreprocessor.enabled=True \
    --ClearMetadataPreprocessor.preserve_nb_metadata_mask="[('language_info','name'),('kernelspec',)]" \
    "$nb" 2>&1 | tail -1
done
for nb in notebooks/01_scoren.ipynb notebooks/05_facilitator.ipynb; do
  uv run --no-sync jupyter nbconvert --clear-output --inplace "$nb" 2>&1 | tail -1
done
rm -rf "$(dirname "$ws")"
