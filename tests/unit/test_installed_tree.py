"""installed_tree: what the installers left, made the same whoever wrote it, then checked.

Trees are laid out by hand the way uv and pip leave a `--target` directory (RECORD rows, the
installer's own files, headers, scripts, bytecode, empty directories); the integration tests
(test_real_wheels.py) do the same with real wheels and both installers.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from lambda_zip_action.errors import InstallError
from lambda_zip_action.installed_tree import (
    check_claims,
    check_platform,
    expand_tags,
    normalize_tree,
)
from lambda_zip_action.installers import InstallRequest
from lambda_zip_action.requirements import RequirementSet
from lambda_zip_action.runtimes import RUNTIMES


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def install(
    target: Path,
    name: str,
    version: str,
    files: dict[str, bytes],
    tags: tuple[str, ...] = ("py3-none-any",),
    extra_rows: tuple[str, ...] = (),
) -> Path:
    """A distribution as an installer leaves it: its files, METADATA, WHEEL and RECORD."""
    dist_info = target / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\n" + "".join(f"Tag: {t}\n" for t in tags))
    for file in ("INSTALLER", "REQUESTED"):
        (dist_info / file).write_text("uv\n")
    rows = []
    for path, data in files.items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_bytes(data)
        rows.append(f"{path},{_hash(data)},{len(data)}")
    for own in ("METADATA", "WHEEL", "INSTALLER", "REQUESTED"):
        data = (dist_info / own).read_bytes()
        rows.append(f"{dist_info.name}/{own},{_hash(data)},{len(data)}")
    rows += [*extra_rows, f"{dist_info.name}/RECORD,,"]
    (dist_info / "RECORD").write_text("\n".join(rows) + "\n")
    return dist_info


def test_normalize_keeps_what_importlib_reads_and_drops_what_differs(tmp_path: Path) -> None:
    target = tmp_path / "t"
    dist_info = install(
        target, "demo", "1.0",
        {"demo/__init__.py": b"X = 1\n", "include/demo/demo.h": b"int x;\n",
         "demo/__pycache__/__init__.cpython-312.pyc": b"stale", "share/demo/data.txt": b"d\n"},
        extra_rows=("bin/demo,,",),
    )  # fmt: skip
    (target / "bin").mkdir()
    (target / "bin" / "demo").write_text("#!/build/machine/python\n")
    (target / "demo.libs").mkdir()  # a wheel's empty .libs directory (uv makes it, pip not)
    (target / ".lock").write_text("")

    (distribution,) = normalize_tree(target)

    assert (distribution.name, distribution.version, distribution.source) == (
        "demo",
        "1.0",
        "index",
    )
    assert distribution.tags == ("py3-none-any",)
    left = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert left == [
        "demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/RECORD", "demo-1.0.dist-info/WHEEL",
        "demo/__init__.py", "share/demo/data.txt",
    ]  # fmt: skip
    assert not (target / "demo.libs").exists() and not (target / "include").exists()
    record = (dist_info / "RECORD").read_text()
    # RECORD lists what ships, and no longer the installer's files, headers or bytecode.
    assert "demo/__init__.py," in record and "share/demo/data.txt," in record
    assert "INSTALLER" not in record and "include/" not in record and ".pyc" not in record


def test_normalize_names_follow_pep_503_and_local_paths_lose_their_directory(
    tmp_path: Path,
) -> None:
    target = tmp_path / "t"
    dist_info = install(target, "Annotated_Types", "0.7.0", {"annotated_types/__init__.py": b""})
    (dist_info / "direct_url.json").write_text('{"url": "file:///home/me/src/annotated-types"}')
    (distribution,) = normalize_tree(target)
    assert distribution.name == "annotated-types"
    assert distribution.source == "file:annotated-types"  # the build machine's path is not kept
    assert not (dist_info / "direct_url.json").exists()


def test_two_distributions_installing_one_file_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "t"
    install(target, "jwt", "1.3.1", {"jwt/__init__.py": b"a", "jwt/utils.py": b"b"})
    install(target, "PyJWT", "2.10.1", {"jwt/__init__.py": b"a", "jwt/utils.py": b"c"})
    with pytest.raises(InstallError) as raised:
        check_claims(target)
    message = raised.value.message
    assert "jwt 1.3.1 and pyjwt 2.10.1 both install jwt/ (2 files:" in message
    assert "Keep only one of them in the lock" in message


def test_compressed_tag_sets_are_expanded() -> None:
    assert expand_tags(["cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"]) == (
        "cp312-cp312-manylinux2014_x86_64",
        "cp312-cp312-manylinux_2_17_x86_64",
    )
    assert expand_tags(["py2.py3-none-any"]) == ("py2-none-any", "py3-none-any")
    assert expand_tags(["not a tag"]) == ("not a tag",)


def test_native_code_for_the_wrong_platform_is_refused(tmp_path: Path) -> None:
    from lambda_zip_action.installed_tree import Distribution

    request = InstallRequest(
        RequirementSet("requirements.txt", tmp_path / "r.txt", None, (), True, True),
        RUNTIMES["3.12"], "x86_64", Path("/usr/bin/python3"), tmp_path / "t",
    )  # fmt: skip
    good = Distribution("orjson", "3.10", "index", ("cp312-cp312-manylinux_2_17_x86_64",))
    pure = Distribution("six", "1.16", "index", ("py2-none-any", "py3-none-any"))
    check_platform((good, pure), request)
    host = Distribution("mylib", "1.0", "index", ("cp312-cp312-linux_x86_64",))
    with pytest.raises(InstallError, match=r"mylib 1.0 \(linux_x86_64\)"):
        check_platform((good, host), request)
    arm = Distribution("orjson", "3.10", "index", ("cp312-cp312-manylinux_2_17_aarch64",))
    with pytest.raises(InstallError, match="manylinux_2_17_aarch64"):
        check_platform((arm,), request)
