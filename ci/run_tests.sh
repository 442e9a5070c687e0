#!/usr/bin/env bash
# CI: a fresh virtual environment, the project installed from its own files,
# then the README's test command, verbatim.
#
# Besides the README command it installs two optional backends so that CI
# exercises more than NumPy:
#   - CuPy (the cuda12 extra) on a machine without a GPU: the real
#     "CuPy installed, no CUDA device" path ("auto" falls back, "cupy" raises);
#   - PyTorch's CPU build, when a CPU wheel is at hand (the +cpu local version
#     never matches a multi-GB CUDA build, so this step fails fast instead).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${NEURALCORE_CI_VENV:-$(mktemp -d)/venv}"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip

echo "== installing optional backends for the test run"
python -m pip install --quiet ".[cuda12]"
if python -m pip install --quiet --only-binary=:all: "torch==2.13.0+cpu"; then
    echo "torch CPU build installed: torch cases will run"
else
    echo "no torch CPU build available here: torch cases are not run"
fi

# The README's test command, taken from between its markers so the two never drift.
test_command=$(sed -n '/<!-- test-command -->/,/<!-- \/test-command -->/p' README.md | grep -v -e '^<!--' -e '^```')
if [ -z "$test_command" ]; then
    echo "README.md has no test command between <!-- test-command --> markers" >&2
    exit 1
fi
echo "== README test command: $test_command"
export NEURALCORE_EXPECT_CUPY_WITHOUT_GPU=1
set +e
eval "$test_command"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: treating as a failure" >&2
    exit 1
fi
exit "$status"
