"""Corpus case cryptography: the handler imports every top-level module the set ships."""

from __future__ import annotations

import _cffi_backend
import bcrypt
import cffi
import cryptography
import cryptography.hazmat.backends
import pycparser
import pycparser.c_parser
from cryptography.fernet import Fernet

MODULES = (
    _cffi_backend,
    bcrypt,
    cffi,
    cryptography,
    pycparser,
)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    key = Fernet.generate_key()
    token = Fernet(key).encrypt(b"secret")
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4))
    ffi = cffi.FFI()
    return {
        "ok": True,
        "checks": {
            "fernet": Fernet(key).decrypt(token) == b"secret",
            "bcrypt": bcrypt.checkpw(b"pw", hashed),
            "cffi": ffi.sizeof("int") == 4,
            "openssl": "OpenSSL"
            in cryptography.hazmat.backends.default_backend().openssl_version_text(),
            "pycparser": pycparser.c_parser.CParser().parse("int x;") is not None,
            "cffi_backend": _cffi_backend.__version__ == cffi.__version__,
        },
    }
