#!/usr/bin/env bash
# Build (or update) one test environment:
#   scripts/make_venv.sh VENV REQUIREMENTS BACKEND
# creates VENV with $PYTHON (default python3), installs REQUIREMENTS and this
# package (editable, no dependencies), checks that the environment is the one
# BACKEND (tensorflow | jax | torch) needs, then writes VENV/.installed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1 requirements=$2 backend=$3
python=${PYTHON:-python3}
echo "==> setting up $venv ($backend) from $requirements"
start=$SECONDS
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$requirements"
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
"$venv/bin/python" scripts/check_env.py "$backend"
touch "$venv/.installed"
echo "==> $venv ready in $((SECONDS - start)) s ($(du -sh "$venv" | cut -f1))"
