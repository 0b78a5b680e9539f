"""stage: what goes into the archive, collected from real trees in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_zip_action.errors import SourceError
from lambda_zip_action.stage import (
    SourceRules,
    StagedFile,
    case_collisions,
    collect,
    merge,
    normalized_mode,
    program_mode,
)


def tree(root: Path, files: dict[str, bytes | str], mode: int = 0o644) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        path.chmod(mode)
    return root


def names(entries: list[StagedFile]) -> list[str]:
    return [entry.name for entry in entries]


def test_collect_lists_files_and_directories_sorted_with_normalised_modes(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {"b.py": "", "a/z.py": "", "a/y.txt": ""}, mode=0o600)
    (root / "a" / "run").write_text("echo\n")
    (root / "a" / "run").chmod(0o700)
    (root / "a").chmod(0o700)
    entries = collect(root, "source")
    assert names(entries) == ["a/", "a/run", "a/y.txt", "a/z.py", "b.py"]
    by_name = {entry.name: entry for entry in entries}
    # Owner-only modes become world-readable; an executable stays executable.
    assert by_name["a/"].mode == 0o755 and by_name["a/"].path is None and by_name["a/"].is_dir
    assert by_name["a/run"].mode == 0o755
    assert by_name["b.py"].mode == 0o644
    assert by_name["b.py"].path == (root / "b.py").resolve()
    assert all(entry.origin == "source" for entry in entries)
    (root / "a" / "y.txt").write_text("12345")
    assert {e.name: e.size for e in collect(root, "source")}["a/y.txt"] == 5


def test_a_reversed_walk_gives_the_same_entries_once_merged(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {f"p{i}/m{j}.py": f"{i}{j}" for i in range(3) for j in range(3)})
    forward, backward = collect(root, "source"), collect(root, "source", reverse=True)
    assert names(backward)[:2] == ["p2/", "p2/m2.py"]  # the walk itself is reversed
    assert merge(backward, layer=False) == merge(forward, layer=False) == forward


def test_dependency_modes_come_from_content_not_permission_bits(tmp_path: Path) -> None:
    root = tree(tmp_path / "deps", {"lib.so": b"\x7fELF\x02\x01", "tool": "#!/bin/sh\n"}, 0o644)
    tree(root, {"data.json": "{}", "mod.py": "X = 1\n"}, 0o777)
    modes = {e.name: e.mode for e in collect(root, "dependency")}
    assert modes == {"data.json": 0o644, "lib.so": 0o755, "mod.py": 0o644, "tool": 0o755}
    assert program_mode(root / "missing") == 0o644


def test_normalized_mode() -> None:
    assert normalized_mode(0o100600) == 0o644
    assert normalized_mode(0o100604) == 0o644
    assert normalized_mode(0o100610) == 0o755  # executable by someone
    assert normalized_mode(0o040700) == 0o755  # a directory


def test_caches_vcs_and_virtualenvs_are_never_shipped(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {
        "app/handler.py": "", "app/__pycache__/handler.cpython-312.pyc": "", "app/old.pyc": "",
        ".git/HEAD": "", "app/.DS_Store": "", "app/.mypy_cache/x": "", "venv/pyvenv.cfg": "",
        "venv/lib/site.py": "",
    })  # fmt: skip
    assert names(collect(root, "source")) == ["app/", "app/handler.py"]
    # A dependency tree is the installer's: nothing is skipped there.
    assert "app/old.pyc" in names(collect(root, "dependency"))


def test_top_level_rules_apply_only_at_the_top_of_the_project(tmp_path: Path) -> None:
    root = tree(tmp_path / "project", {
        "handler.py": "", "tests/test_handler.py": "", "README.md": "", "pyproject.toml": "",
        "requirements-dev.txt": "", "main.tf": "", "pkg/tests/fixture.py": "", "pkg/README.md": "",
    })  # fmt: skip
    top = collect(root, "source", SourceRules(top_level=True))
    assert names(top) == ["handler.py", "pkg/", "pkg/README.md", "pkg/tests/",
                          "pkg/tests/fixture.py"]  # fmt: skip
    # The same tree as a plain source directory keeps everything.
    assert len([e for e in collect(root, "source") if not e.is_dir]) == 8


def test_includes_bring_back_and_excludes_win(tmp_path: Path) -> None:
    root = tree(tmp_path / "project", {"handler.py": "", "tests/t.py": "", "docs/a.md": ""})
    rules = SourceRules(excludes=("docs", "tests/t.py"), includes=("tests", "tests/t.py"),
                        top_level=True)  # fmt: skip
    # tests/ comes back, but the exclude of the path inside it wins.
    assert names(collect(root, "source", rules)) == ["handler.py", "tests/"]
    # A pattern without "/" matches the last name at any depth; with "/" the whole path.
    tree(root, {"pkg/docs/b.md": "", "pkg/tests/t.py": ""})
    deep = names(collect(root, "source", rules))
    assert "pkg/docs/" not in deep and "pkg/tests/t.py" in deep


def test_never_packs_the_output_by_identity(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {"handler.py": "", "dist/lambda.zip": "PK"})
    os.link(root / "dist" / "lambda.zip", root / "copy.zip")
    entries = collect(root, "source", never_pack=[root / "dist" / "lambda.zip", tmp_path / "none"])
    assert names(entries) == ["dist/", "handler.py"]
    rules = SourceRules(never=("dist",))
    assert names(collect(root, "source", rules, [root / "dist" / "lambda.zip"])) == ["handler.py"]


def test_a_credential_is_refused_unless_included_by_name(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {"handler.py": "", ".env": "TOKEN=x\n",
                                   "keys/id": "-----BEGIN OPENSSH PRIVATE KEY-----\n"})  # fmt: skip
    with pytest.raises(SourceError) as raised:
        collect(root, "source")
    message = raised.value.message
    assert f"{root / '.env'} looks like a credential" in message
    assert f"{root / 'keys' / 'id'} looks like a credential" in message
    assert message.endswith("Fix or exclude these paths (--exclude) and build again.")
    rules = SourceRules(includes=(".env", "keys/id"))
    assert names(collect(root, "source", rules)) == [".env", "handler.py", "keys/", "keys/id"]
    # Dependencies are what their wheels hold: not judged as credentials.
    assert ".env" in names(collect(root, "dependency"))


def test_unpackable_entries_are_all_reported_at_once(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {"handler.py": ""})
    os.mkfifo(root / "pipe")
    (root / "dangling").symlink_to(root / "nowhere")
    (root / "outside").symlink_to(tmp_path)
    (root / os.fsdecode(b"bad\xff.py")).write_text("")
    with pytest.raises(SourceError) as raised:
        collect(root, "source")
    message = raised.value.message
    assert f"{root / 'pipe'} is a FIFO, which cannot go into a zip" in message
    assert f"{root / 'dangling'} is a broken symlink or a symlink loop" in message
    assert f"{root / 'outside'} is a symlink to {tmp_path}, outside {root}" in message
    assert "has a name that is not valid UTF-8" in message
    assert message.count(";") >= 3


def test_a_symlink_inside_the_tree_is_packed_as_its_target(tmp_path: Path) -> None:
    root = tree(tmp_path / "src", {"real/mod.py": "X = 1\n"})
    (root / "alias").symlink_to("real", target_is_directory=True)
    (root / "link.py").symlink_to("real/mod.py")
    entries = {e.name: e for e in collect(root, "source")}
    assert sorted(entries) == ["alias/", "alias/mod.py", "link.py", "real/", "real/mod.py"]
    assert entries["link.py"].path == (root / "real" / "mod.py").resolve()
    # A directory link that leads back up is a loop, not an endless walk.
    (root / "real" / "up").symlink_to("..", target_is_directory=True)
    with pytest.raises(SourceError, match="is a symlink loop"):
        collect(root, "source")


def test_merge_sorts_by_utf8_adds_parents_and_refuses_clashes(tmp_path: Path) -> None:
    deps = collect(tree(tmp_path / "deps", {"six.py": "", "pkg/a.py": ""}), "dependency")
    src = collect(tree(tmp_path / "src", {"é.py": "", "Z.py": "", "pkg/b.py": ""}), "source")
    merged = merge(deps, src, layer=False)
    # Byte order of UTF-8 names: uppercase, then lowercase, then non-ASCII.
    assert names(merged) == ["Z.py", "pkg/", "pkg/a.py", "pkg/b.py", "six.py", "é.py"]
    layer = merge(deps, layer=True)
    assert names(layer) == ["python/", "python/pkg/", "python/pkg/a.py", "python/six.py"]
    assert {e.name: e.origin for e in layer}["python/six.py"] == "dependency"
    clash = collect(tree(tmp_path / "other", {"six.py": ""}), "source")
    with pytest.raises(SourceError) as raised:
        merge(deps, clash, layer=False)
    assert raised.value.message.startswith(
        "Two inputs provide the same archive path: six.py (dependency and source)."
    )


def test_merge_supplies_missing_parent_directories() -> None:
    entries = [StagedFile("a/b/c.py", Path("/x"), 0o644, "bytecode")]
    merged = merge(entries, layer=False)
    assert [(e.name, e.mode, e.path) for e in merged] == [
        ("a/", 0o755, None), ("a/b/", 0o755, None), ("a/b/c.py", 0o644, Path("/x")),
    ]  # fmt: skip


def test_case_collisions_fold_case_and_unicode_forms() -> None:
    entries = [
        StagedFile(name, None, 0o644, "source")
        for name in ("App.py", "app.py", "caf\u00e9.py", "cafe\u0301.py", "other.py")
    ]
    assert case_collisions(entries) == [("App.py", "app.py"), ("caf\u00e9.py", "cafe\u0301.py")]
    assert case_collisions(entries[4:]) == []


def test_more_credential_files_are_recognised() -> None:
    from lambda_zip_action.credentials import is_secret

    for name in (".envrc", "config/credentials.json", "client_secret_123.apps.json",
                 "keys/service-account-prod.json", ".git/config", "app/.hg/hgrc", "env.yml",
                 "serverless.env.yml", "conf/prod.env.yaml", ".env.yaml", ".chalice/config.json",
                 "zappa_settings.json", "infra/terraform.tfvars", "prod.tfvars.json",
                 "terraform.tfstate", "terraform.tfstate.backup"):  # fmt: skip
        assert is_secret(name, None), name
    for name in ("credentials.py", "config/settings.json", ".env.example", "envrc.txt",
                 "environment.yml", "myenv.yml", "config.json", "zappa_settings.py", "main.tf",
                 "terraform.tfvars.example", ".git/HEAD"):  # fmt: skip
        assert not is_secret(name, None), name


def elf(machine: int) -> bytes:
    """An ELF header (64-bit, little-endian) naming `machine` in e_machine."""
    return b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little") + bytes(44)


def test_deploy_tool_files_stay_out_of_a_top_level_layout(tmp_path: Path) -> None:
    root = tree(tmp_path / "fn", {
        "app.py": "", "template.py": "", "helpers/__init__.py": "", "events/__init__.py": "",
        "template.yaml": "", "samconfig.toml": "", ".aws-sam/build/x": "", "cdk.json": "{}",
        "cdk.context.json": "{}", "cdk.out/manifest.json": "", "source.bat": "",
        "serverless.yml": "", "package.json": "{}", "package-lock.json": "{}", "yarn.lock": "",
        "node_modules/x/index.js": "", ".serverless/state.json": "", ".chalice/config.json": "",
        "zappa_settings.json": "{}", "main.tf": "", "terraform.tfvars": "", "prod.tfstate": "",
        ".terraform/providers/x": "", ".terraform.lock.hcl": "", "Makefile": "",
        "docs/conf.py": "", "scripts/deploy.py": "", "env.yml": "", "serverless.env.yml": "",
    })  # fmt: skip
    kept = [e.name for e in collect(root, "source", SourceRules(top_level=True))]
    # A directory named events that is a package is code; SAM's events/ of JSON is not.
    assert kept == ["app.py", "events/", "events/__init__.py", "helpers/",
                    "helpers/__init__.py", "template.py"]  # fmt: skip
    (root / "events" / "__init__.py").unlink()
    (root / "events" / "event.json").write_text("{}")
    assert "events/" not in names(collect(root, "source", SourceRules(top_level=True)))


@pytest.mark.parametrize(
    "name", ["pkg/env.yml", "pkg/serverless.env.yml", "pkg/.chalice/config.json",
             "pkg/zappa_settings.json", "pkg/terraform.tfvars", ".git/config"],
)  # fmt: skip
def test_deploy_settings_holding_environment_variables_are_refused_among_code(
    tmp_path: Path, name: str
) -> None:
    root = tree(tmp_path / "src", {"pkg/app.py": "", name: "DB_PASSWORD: hunter2\n"})
    if name == ".git/config":  # never walked, so never refused: left out
        assert names(collect(root, "source")) == ["pkg/", "pkg/app.py"]
        return
    with pytest.raises(SourceError) as raised:
        collect(root, "source")
    assert f"{root / name} looks like a credential" in raised.value.message
    assert name in names(collect(root, "source", SourceRules(includes=(name,))))


def test_binaries_lambda_cannot_load_are_refused_among_the_sources(tmp_path: Path) -> None:
    macho = (0xFEEDFACF).to_bytes(4, "big") + bytes(60)
    pe = b"MZ" + bytes(0x3A) + (128).to_bytes(4, "little") + bytes(200)
    root = tree(tmp_path / "src", {
        "app.py": "", "lib/speedups.pyd": b"not even a PE", "lib/helper.dll": b"x",
        "lib/old.cpython-38-x86_64-linux-gnu.so": elf(62),
        "lib/nogil.cpython-312t-x86_64-linux-gnu.so": elf(62),
        "lib/arm.cpython-312-aarch64-linux-gnu.so": elf(183), "lib/libfoo.so.1": elf(183),
        "bin/tool": macho, "bin/tool2": pe,
        "lib/ok.cpython-312-x86_64-linux-gnu.so": elf(62), "lib/libok.so": elf(62),
        "bin/x86-program": elf(183),  # not loadable: a program, judged by whoever runs it
    })  # fmt: skip
    rules = SourceRules(includes=("*",), python_version="3.12", architecture="x86_64")
    with pytest.raises(SourceError) as raised:
        collect(root, "source", rules)
    message = raised.value.message
    for name, why in [
        ("lib/speedups.pyd", "is a Windows or macOS library (pyd)"),
        ("lib/helper.dll", "is a Windows or macOS library (dll)"),
        (
            "lib/old.cpython-38-x86_64-linux-gnu.so",
            "is an extension module for CPython 3.8: Python 3.12 does not",
        ),
        (
            "lib/nogil.cpython-312t-x86_64-linux-gnu.so",
            "is an extension module for CPython 3.12 free-threaded",
        ),
        (
            "lib/arm.cpython-312-aarch64-linux-gnu.so",
            "is an ELF library for arm64, but the target is x86_64",
        ),
        ("lib/libfoo.so.1", "is an ELF library for arm64"),
        ("bin/tool", "is a macOS (Mach-O) binary"),
        ("bin/tool2", "is a Windows (PE) binary"),
    ]:
        assert f"{root / name} {why}" in message, name
    assert "ok.cpython-312" not in message and "libok" not in message
    assert "x86-program" not in message
    # Without a target (a caller that names none), only what no Linux loads is judged.
    for name in ("lib/speedups.pyd", "lib/helper.dll", "bin/tool", "bin/tool2"):
        (root / name).unlink()
    assert len([e for e in collect(root, "source") if not e.is_dir]) == 8
