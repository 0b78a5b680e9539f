"""What each AWS Lambda Python runtime is: its Python, its glibc, its paths.

Everything that depends on the target (wheel platforms, marker values, bytecode magic, the
directory Lambda extracts a package into) is read from here, so adding a runtime is one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Architecture = Literal["x86_64", "arm64"]
Layout = Literal["function", "layer"]

ARCHITECTURES: tuple[Architecture, ...] = ("x86_64", "arm64")
LAYOUTS: tuple[Layout, ...] = ("function", "layer")

# Lambda's own names: the ELF machine and the platform_machine marker use these.
MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}


@dataclass(frozen=True)
class Runtime:
    """One Lambda Python runtime (`python3.12`, ...)."""

    python_version: str
    os_name: str
    glibc: tuple[int, int]
    magic: int

    @property
    def identifier(self) -> str:
        return f"python{self.python_version}"

    @property
    def cache_tag(self) -> str:
        return "cpython-" + self.python_version.replace(".", "")

    @property
    def manylinux(self) -> tuple[int, int]:
        """The newest manylinux tag both installers can be told to accept for this runtime.

        uv's --python-platform knows manylinux_2_17 and manylinux_2_28 and up, but no
        manylinux_2_26: Amazon Linux 2 (glibc 2.26) therefore gets manylinux_2_17, and pip is
        given exactly the same ceiling, so the two installers choose the same wheels.
        """
        return (2, 17) if self.glibc < (2, 28) else self.glibc

    def uv_platform(self, architecture: Architecture) -> str:
        major, minor = self.manylinux
        return f"{MACHINE[architecture]}-manylinux_{major}_{minor}"

    def pip_platforms(self, architecture: Architecture) -> list[str]:
        """Every manylinux platform tag the runtime accepts, newest first, for pip's --platform."""
        machine = MACHINE[architecture]
        major, ceiling = self.manylinux
        tags = [f"manylinux_{major}_{minor}_{machine}" for minor in range(ceiling, 16, -1)]
        tags.append(f"manylinux2014_{machine}")
        if architecture == "x86_64":
            tags += [
                f"manylinux_2_12_{machine}",
                f"manylinux2010_{machine}",
                f"manylinux_2_5_{machine}",
                f"manylinux1_{machine}",
            ]
        return tags

    def marker_environment(self, architecture: Architecture) -> dict[str, str]:
        """PEP 508 marker values as Lambda's interpreter would report them."""
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{self.python_version}.0",
            "os_name": "posix",
            "platform_machine": MACHINE[architecture],
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{self.python_version}.0",
            "python_version": self.python_version,
            "sys_platform": "linux",
        }


RUNTIMES: dict[str, Runtime] = {
    runtime.python_version: runtime
    for runtime in (
        Runtime("3.10", "Amazon Linux 2", (2, 26), 3439),
        Runtime("3.11", "Amazon Linux 2", (2, 26), 3495),
        Runtime("3.12", "Amazon Linux 2023", (2, 34), 3531),
        Runtime("3.13", "Amazon Linux 2023", (2, 34), 3571),
        Runtime("3.14", "Amazon Linux 2023", (2, 34), 3627),
    )
}

DEFAULT_PYTHON_VERSION = max(RUNTIMES, key=lambda v: tuple(int(p) for p in v.split(".")))


def task_root(layout: Layout) -> str:
    """Where Lambda puts the package's root at run time: the directory `co_filename` names."""
    return "/var/task" if layout == "function" else "/opt"
