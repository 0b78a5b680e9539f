#!/usr/bin/env bash
# Regenerates the corpus locks from each case's requirements.in (see README.md).
# Universal (every platform's wheels hashed, markers kept) for Python 3.12 and later, resolved
# as the index stood at EXCLUDE_NEWER so that a relock picks the same versions.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
UV="${UV:-../../.venv/bin/uv}"
EXCLUDE_NEWER="${EXCLUDE_NEWER:-2025-07-01T00:00:00Z}"
export UV_PYTHON_DOWNLOADS=never

(($#)) || set -- */requirements.in
for input in "$@"; do
    [[ $input == */requirements.in ]] || input="$input/requirements.in"
    case_dir="${input%/requirements.in}"
    "$UV" pip compile "$input" --universal --python-version 3.12 --generate-hashes \
        --exclude-newer "$EXCLUDE_NEWER" --no-header --quiet -o "$case_dir/requirements.txt"
done
