"""What an ELF file needs from the machine that loads it: its machine and its glibc versions.

Read from the bytes alone (no lief, no readelf): the ELF header's e_machine, and the
GLIBC_x.y names in the version-needs section (SHT_GNU_verneed, what `objdump -p` lists under
"Version References"), which the dynamic loader checks against the glibc it runs with.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
MACHINES = {62: "x86_64", 183: "arm64"}
SHT_GNU_VERNEED = 0x6FFFFFFE
GLIBC_VERSION = re.compile(rb"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class ElfNeeds:
    machine: str
    glibc: tuple[int, int] | None  # the newest GLIBC_x.y it needs, None when it needs none


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


def read_needs(data: bytes) -> ElfNeeds:
    """The machine and the newest glibc version a 64-bit little-endian ELF file needs."""
    if data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    machine_number = struct.unpack_from("<H", data, 18)[0]
    machine = MACHINES.get(machine_number, f"e_machine {machine_number}")
    section_offset = struct.unpack_from("<Q", data, 0x28)[0]
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, section_offset + index * entry_size)
        for index in range(count)
    ]
    newest: tuple[int, int] | None = None
    for _name, kind, _flags, _addr, offset, _size, link, info, _align, _entsize in sections:
        if kind != SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        entry = offset
        for _ in range(info):  # sh_info: the number of Verneed entries
            _version, aux_count, _file, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
            aux_at = entry + aux
            for _ in range(aux_count):
                _hash, _flags2, _other, name, next_aux = struct.unpack_from("<IHHII", data, aux_at)
                end = data.index(b"\0", strings + name)
                found = GLIBC_VERSION.match(data[strings + name : end])
                if found:
                    version = (int(found.group(1)), int(found.group(2)))
                    newest = version if newest is None else max(newest, version)
                aux_at += next_aux
            if not next_entry:
                break
            entry += next_entry
    return ElfNeeds(machine, newest)
