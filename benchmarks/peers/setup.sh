#!/usr/bin/env bash
# Create one virtual environment per peer library from the pinned requirement files.
# Idempotent: a venv whose python already imports its package is left alone.
# Venv root: $MMM_JAX_PEERS_DIR (default /tmp). Usage: setup.sh [pymcm|meridian|lwmmm ...]
set -euo pipefail
REQS="$(cd "$(dirname "$0")/../../../shared/peers" && pwd)"
ROOT="${MMM_JAX_PEERS_DIR:-/tmp}"
PY="${PYTHON:-python3}"

declare -A REQ=([lwmmm]=lightweight_mmm-0.1.9.txt [meridian]=google-meridian-2.1.0.txt
                [pymcm]=pymc-marketing-0.19.2.txt)
declare -A MOD=([lwmmm]=lightweight_mmm [meridian]=meridian [pymcm]=pymc_marketing)

names=("$@"); [ ${#names[@]} -eq 0 ] && names=(pymcm lwmmm meridian)
for name in "${names[@]}"; do
  venv="$ROOT/peer-$name"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import ${MOD[$name]}" >/dev/null 2>&1; then
    echo "[$name] ok: $venv already imports ${MOD[$name]}"; continue
  fi
  echo "[$name] installing into $venv from ${REQ[$name]}"
  start=$SECONDS
  [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-deps -r "$REQS/${REQ[$name]}"
  "$venv/bin/python" -c "import ${MOD[$name]}"
  echo "[$name] done in $((SECONDS - start)) s"
done
