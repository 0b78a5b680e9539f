"""Corpus case pynacl-pyjwt: the handler imports every top-level module the set ships."""

from __future__ import annotations

import _cffi_backend
import cffi
import cryptography
import jwt
import nacl
import nacl.signing
import pycparser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MODULES = (
    _cffi_backend,
    cffi,
    cryptography,
    jwt,
    nacl,
    pycparser,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    signing = nacl.signing.SigningKey.generate()
    signed = signing.sign(b"message")
    private = Ed25519PrivateKey.generate()
    token = jwt.encode({"sub": "corpus"}, private, algorithm="EdDSA")
    claims = jwt.decode(token, private.public_key(), algorithms=["EdDSA"])
    return {
        "ok": True,
        "checks": {
            "nacl": signing.verify_key.verify(signed) == b"message",
            "jwt": claims == {"sub": "corpus"},
        },
    }
