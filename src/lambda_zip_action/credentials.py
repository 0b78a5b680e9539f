"""What a credential looks like, for staging (refuse to ship it) and inspect (report it).

By name: `.env` files (not `.env.example` and other templates), direnv's `.envrc`, `.netrc`,
`.pypirc`, `.git-credentials`, `.npmrc`, `.aws/credentials`, `.docker/config.json`, the
Google-style `credentials.json`, `client_secret*.json` and `service-account*.json`, SSH private
keys (`id_rsa`, `id_ed25519`, ...); version control settings that hold tokens (`.git/config`,
where actions/checkout persists its token, `.hg/hgrc`); and the deploy tools' files that hold
environment variables or state: Serverless' `env.yml` and `serverless.env.yml` (any
`*.env.yml`), Chalice's `.chalice/config.json`, `zappa_settings.*`, Terraform's `*.tfvars` and
`*.tfstate`. By content: a PEM private key, whatever the file is called. A certificate bundle
(`cacert.pem`: `BEGIN CERTIFICATE`) is not a secret.
"""

from __future__ import annotations

import re

HEAD_BYTES = 64

_NAMES = re.compile(
    r"(^|/)(\.env(\.[^/]*)?|\.envrc|\.netrc|\.pypirc|\.git-credentials|\.npmrc|"
    r"\.aws/credentials|\.docker/config\.json|credentials\.json|client_secret[^/]*\.json|"
    r"service-account[^/]*\.json|id_(rsa|dsa|ecdsa|ed25519)|"
    r"\.git/config|\.hg/hgrc|"
    r"([^/]*\.)?env\.ya?ml|\.chalice/config\.json|zappa_settings\.(json|ya?ml|toml)|"
    r"[^/]*\.tfvars(\.json)?|[^/]*\.tfstate(\.[^/]*)?)$"
)
_TEMPLATES = re.compile(r"(\.env\.|\.tfvars\.)(example|sample|template|dist)$")


def is_secret(name: str, head: bytes | None) -> bool:
    """`name` ("/"-separated) or the first HEAD_BYTES of its content mark a credential."""
    if _NAMES.search(name) and not _TEMPLATES.search(name):
        return True
    return head is not None and head.startswith(b"-----BEGIN") and b"PRIVATE KEY" in head
