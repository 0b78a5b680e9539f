#!/usr/bin/env bash
# Regenerates the locks of the real-world corpus (see README.md) with the real tools:
# `uv pip compile --generate-hashes` for requirements.txt files (for the runtime's Python on
# Linux, so every line applies to the function), `uv lock` and `poetry lock` for the
# projects that use them, resolved as the index stood at EXCLUDE_NEWER. The sls-individually
# case keeps its hand-written `==` pins and `-r ../requirements-common.txt`, as the plugin's
# layout has them. The cdk.out of cdk-apigw-lambda is synthesized by aws-cdk-lib: `synth` below.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
UV="${UV:-$PWD/../../.venv/bin/uv}"
EXCLUDE_NEWER="${EXCLUDE_NEWER:-2025-07-01T00:00:00Z}"
export UV_PYTHON_DOWNLOADS=never

# lock file | runtime's Python | what the user asked for
REQUIREMENTS=(
    "sam-hello/hello_world/requirements.txt|3.12|requests==2.32.4"
    "retired-runtime/hello_world/requirements.txt|3.12|requests==2.32.4"
    "sam-stepfunc-globals/functions/stock_checker/requirements.txt|3.13|attrs==25.3.0"
    "sam-stepfunc-globals/functions/stock_seller/requirements.txt|3.13|orjson==3.10.18"
    "sam-stepfunc-globals/functions/stock_buyer/requirements.txt|3.12|pydantic==2.11.7"
    "sam-layer/layers/common/requirements.txt|3.11|PyYAML==6.0.2 six==1.17.0"
    "sls-http-api-todos/requirements.txt|3.11|python-dateutil==2.9.0.post0"
    "sls-individually/module2/requirements.txt|3.12|MarkupSafe==3.0.2"
    "sls-telegram-bot/requirements.txt|3.12|python-telegram-bot==22.1"
    "tf-module-source-path/src/python-app1/requirements.txt|3.12|colorful==0.5.6 orjson==3.10.18"
    "chalice-todo/requirements.txt|3.13|PyJWT==2.10.1"
    "zappa-flask/requirements.txt|3.11|Flask==3.1.1"
)

lock_requirements() {
    local entry file python inputs
    for entry in "${REQUIREMENTS[@]}"; do
        IFS='|' read -r file python inputs <<<"$entry"
        # shellcheck disable=SC2086
        printf '%s\n' $inputs | "$UV" pip compile - --python-version "$python" \
            --python-platform linux --generate-hashes --exclude-newer "$EXCLUDE_NEWER" \
            --no-header --no-annotate --quiet -o "$file"
    done
}

lock_projects() {
    (cd uv-fastapi && "$UV" lock --exclude-newer "$EXCLUDE_NEWER" --quiet)
    # Poetry from PyPI, in a throwaway environment.
    local poetry
    poetry="$(mktemp -d)"
    "$UV" venv --quiet --python python3 "$poetry"
    "$UV" pip install --quiet --python "$poetry/bin/python" "poetry==2.1.3"
    (cd poetry-lambda && POETRY_VIRTUALENVS_CREATE=false "$poetry/bin/poetry" lock --no-interaction)
    rm -rf "$poetry"
}

synth() {
    # The real CDK synthesizer (aws-cdk-lib, which runs on Node.js through jsii), with the
    # context the CDK CLI passes (asset metadata on), into the committed cdk.out.
    local venv
    venv="$(mktemp -d)"
    "$UV" venv --quiet --python python3 "$venv"
    "$UV" pip install --quiet --python "$venv/bin/python" "aws-cdk-lib==2.180.0" "constructs>=10,<11"
    (
        cd cdk-apigw-lambda
        rm -rf cdk.out
        CDK_OUTDIR="$PWD/cdk.out" CDK_DEFAULT_ACCOUNT=123456789012 CDK_DEFAULT_REGION=eu-west-1 \
            JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1 \
            CDK_CONTEXT_JSON='{"aws:cdk:enable-asset-metadata":true,"aws:cdk:enable-path-metadata":true,"aws:cdk:version-reporting":false,"@aws-cdk/aws-lambda:recognizeLayerVersion":true,"@aws-cdk/core:checkSecretUsage":true,"@aws-cdk/core:target-partitions":["aws","aws-cn"]}' \
            "$venv/bin/python" app.py >/dev/null
    )
    rm -rf "$venv"
}

(($#)) || set -- requirements projects synth
for step in "$@"; do
    case "$step" in
        requirements) lock_requirements ;;
        projects) lock_projects ;;
        synth) synth ;;
        *) echo "relock.sh: unknown step $step (requirements, projects, synth)" >&2; exit 2 ;;
    esac
done
