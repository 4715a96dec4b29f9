#!/usr/bin/env bash
# Run the test suite in one or more environments, each under a header:
#   scripts/run_tests.sh [tensorflow] [jax] [torch] [js]     (default: all four)
#   tensorflow  $VENV (.venv):             python -m pytest            (all of tests/, KERAS_BACKEND unset)
#   jax         $VENV_JAX (.venv-jax):     KERAS_BACKEND=jax   python -m pytest tests/any_backend
#   torch       $VENV_TORCH (.venv-torch): KERAS_BACKEND=torch python -m pytest tests/any_backend
#   js          node --test tests/js/*.test.mjs (the dashboard's pure ES modules; Node.js, no browser)
# $PYTEST_ARGS is added to every pytest run. Every environment runs even when
# an earlier one failed; the exit status is non-zero if any run exited
# non-zero, including pytest's 5 (no tests collected).
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv} VENV_JAX=${VENV_JAX:-.venv-jax} VENV_TORCH=${VENV_TORCH:-.venv-torch}
read -r -a extra <<< "${PYTEST_ARGS:-}"
[ $# -gt 0 ] || set -- tensorflow jax torch js

summary=() failed=0
for suite in "$@"; do
  case $suite in
    tensorflow) venv=$VENV       backend=""    paths=() ;;
    jax)        venv=$VENV_JAX   backend=jax   paths=(tests/any_backend) ;;
    torch)      venv=$VENV_TORCH backend=torch paths=(tests/any_backend) ;;
    js)         venv=node        backend=""    paths=() ;;
    *) echo "run_tests.sh: unknown environment '$suite' (tensorflow, jax, torch or js)" >&2; exit 2 ;;
  esac
  echo
  echo "=================================================================================="
  if [ "$suite" = js ]; then
    echo "== js: node --test tests/js/*.test.mjs"
  else
    echo "== $suite: $venv/bin/python -m pytest ${paths[*]:-(all of tests/)}   KERAS_BACKEND=${backend:-<unset>}"
  fi
  echo "=================================================================================="
  start=$SECONDS
  if [ "$suite" = js ]; then
    # register-esm.mjs loads plugin_static/*.js as ES modules on any Node.js version.
    node --import ./tests/js/register-esm.mjs --test tests/js/*.test.mjs
  elif [ -n "$backend" ]; then
    KERAS_BACKEND=$backend "$venv/bin/python" -m pytest "${paths[@]}" "${extra[@]}"
  else
    env -u KERAS_BACKEND "$venv/bin/python" -m pytest "${extra[@]}"
  fi
  rc=$?
  took=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    status="ok"
  else
    failed=1
    status="FAILED ($([ "$suite" = js ] && echo node || echo pytest) exit $rc$([ "$rc" -eq 5 ] && [ "$suite" != js ] && echo ': no tests collected'))"
  fi
  summary+=("$(printf '%-10s %-12s %4d s  %s' "$suite" "$venv" "$took" "$status")")
done

echo
echo "== test environments =="
printf '%s\n' "${summary[@]}"
exit $failed
