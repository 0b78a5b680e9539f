"""The GitHub layer: action inputs in; the CLI's pipeline; outputs, summary and comment out.

This package is the one part of the tool that knows about GitHub Actions: `INPUT_*` variables,
workflow commands (groups, annotations, masks, outputs through actions-toolkit), the step
summary, the event payload and the REST API. cli.py imports it only for `lambda-zip action`
and `lambda-zip comment`, so a CLI-only install runs without requests or actions-toolkit.
Everything else is the same pipeline `lambda-zip build|verify|diff` runs, so whatever the
action does can be reproduced on a laptop:

    lambda-zip verify --project fn --python-version 3.12        # the build and its proof
    git worktree add --detach /tmp/base origin/main              # the baseline ...
    lambda-zip build --project /tmp/base/fn --output /tmp/base.zip
    lambda-zip diff /tmp/base.zip fn/dist/lambda.zip --format markdown
    lambda-zip comment --report fn/dist/lambda.zip.report.md --pr 7 --repo o/r --name fn

The modules, from the entry point down:

- action: `run` for both subcommands; the action from inputs to outputs and comment.
- inputs: `INPUT_*` read and validated, turned into build options.
- pipeline: the bytecode interpreter found or installed, the build or its proof.
- baseline: what the new package is compared with (compare-to, baseline-ref, the PR's base).
- runner: what the Actions runner gives and takes (event payload, log, outputs, summary).
- comments: the sticky pull-request comment (marker, trimming, create or update).
- rest: the REST client (token, retries, rate limits, pagination links, the token's login).
- errors: GitHub's error answers as exceptions with advice.
"""
