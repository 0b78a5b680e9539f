"""What the project's own files must not be: one set of rules for build and inspect.

Staging applies them to every source file and refuses the build; `lambda-zip inspect` applies
them to the files no distribution owns (no `.dist-info/RECORD` in the zip lists them, and they
do not lie in a dependency's top-level directory) and reports errors. A dependency's files are
judged elsewhere: install checks the platform tags of its wheels, and a key among its test data
(tornado ships `tornado/test/test.key`) is not the user's secret.

Two kinds of file are refused:

- a credential (see credentials): shipped only if `--include` names it;
- a binary Lambda cannot load, never shipped: a `.pyd`, `.dll` or `.dylib` whatever its
  content, a Mach-O or PE file whatever its name, an extension module tagged for another
  CPython (`x.cpython-38-x86_64-linux-gnu.so` in a 3.12 build, or a free-threaded one), and an
  ELF library (`.so`, `.so.N`) for another machine than the target (its header's e_machine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lambda_zip_action.credentials import HEAD_BYTES, is_secret

ELF_MACHINES = {62: "x86_64", 183: "arm64", 3: "i386", 40: "arm"}
MACHO_MAGICS = {0xFEEDFACE, 0xFEEDFACF, 0xCAFEBABE, 0xCEFAEDFE, 0xCFFAEDFE, 0xBEBAFECA}
PE_SUFFIXES = (".dll", ".pyd", ".exe", ".so")
WINDOWS_OR_MAC_LIBRARIES = (".pyd", ".dll", ".dylib")
# Loadable code: what the dynamic loader or Python's import maps into the process.
LOADABLE = re.compile(r"\.(so|pyd|dylib|dll)$|\.so\.[0-9.]+$", re.IGNORECASE)
EXTENSION_TAG = re.compile(r"\.cpython-(\d)(\d+)([a-z]*)-[^/]*\.so$")

BinaryFormat = Literal["ELF", "Mach-O", "PE"]

__all__ = ["HEAD_BYTES", "Refusal", "binary_format", "elf_machine", "other_python_extension",
           "refusal"]  # fmt: skip


@dataclass(frozen=True)
class Refusal:
    kind: Literal["credential", "binary"]
    reason: str


def refusal(
    name: str,
    head: bytes | None,
    size: int,
    python_version: str | None,
    architecture: str | None,
) -> Refusal | None:
    """Why the project's own file `name` ("/"-separated, first HEAD_BYTES in `head`) cannot
    ship for this target (None: unknown, not judged); None if it can."""
    if is_secret(name, head):
        return Refusal(
            "credential",
            "looks like a credential (a .env file, a private key, a credentials file or deploy "
            "settings holding environment variables): anyone who can read the function's code "
            "could read it",
        )
    why = foreign_binary(name, head, size, python_version, architecture)
    return None if why is None else Refusal("binary", why)


def foreign_binary(
    name: str,
    head: bytes | None,
    size: int,
    python_version: str | None,
    architecture: str | None,
) -> str | None:
    filename = name.rsplit("/", 1)[-1]
    lowered = filename.lower()
    # By its suffix: `.DLL` alone is a dot file's name, not a library.
    if lowered.endswith(WINDOWS_OR_MAC_LIBRARIES) and "." in lowered.lstrip("."):
        return (
            f"is a Windows or macOS library ({lowered.rsplit('.', 1)[-1]}): Lambda runs Linux, "
            "which cannot load it"
        )
    kind = binary_format(filename, head, size)
    if kind in ("Mach-O", "PE"):
        system = "macOS" if kind == "Mach-O" else "Windows"
        return f"is a {system} ({kind}) binary: Lambda runs Linux, which cannot load or run it"
    other = other_python_extension(filename, python_version)
    if other is not None:
        return f"is an extension module for {other}: Python {python_version} does not import it"
    machine = elf_machine(head)
    if machine not in (None, architecture) and architecture and LOADABLE.search(filename):
        return f"is an ELF library for {machine}, but the target is {architecture}"
    return None


def other_python_extension(filename: str, python_version: str | None) -> str | None:
    """`CPython 3.8` for `x.cpython-38-x86_64-linux-gnu.so` in a 3.12 build; None if the tag
    fits the target, there is none, or the target is unknown."""
    tag = EXTENSION_TAG.search(filename)
    if tag is None or python_version is None:
        return None
    built = f"{tag.group(1)}.{tag.group(2)}"
    free_threaded = "t" in tag.group(3)
    if built == python_version and not free_threaded:
        return None
    return f"CPython {built}" + (" free-threaded" if free_threaded else "")


def elf_machine(head: bytes | None) -> str | None:
    """The machine an ELF header names (`x86_64`, `arm64`, `machine 8`); None if not ELF."""
    if head is None or len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    order: Literal["little", "big"] = "little" if head[5] == 1 else "big"
    machine = int.from_bytes(head[18:20], order)
    return ELF_MACHINES.get(machine, f"machine {machine}")


def binary_format(name: str, head: bytes | None, size: int) -> BinaryFormat | None:
    """ELF, Mach-O or PE, by the magic number in `head` (the first HEAD_BYTES), not the name.

    An `MZ` header is PE when the name says so or its PE offset lies inside the file.
    """
    if head is None or len(head) < 4:
        return None
    if elf_machine(head) is not None:
        return "ELF"
    if int.from_bytes(head[:4], "big") in MACHO_MAGICS and not name.endswith(".class"):
        return "Mach-O"
    if head[:2] == b"MZ" and len(head) >= HEAD_BYTES:
        offset = int.from_bytes(head[0x3C:0x40], "little")
        if name.lower().endswith(PE_SUFFIXES) or HEAD_BYTES <= offset < size:
            return "PE"
    return None
