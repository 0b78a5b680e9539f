"""Prove a build reproducible: build again where a careless pipeline would differ, compare.

The second build runs in a fresh process of this tool, with another temporary directory at
another depth, umask 077, another time zone and locale, another PYTHONHASHSEED, more workers
than the first (one more: every core busy, another spread of the same groups) and every walk the
tool controls reversed. It installs again into a fresh target with a fresh, empty installer
cache: every wheel is downloaded again and checked against its hash (uv links installs from the
files it unpacked into its shared cache without checking them again, so an edited file there
would pass in both builds alike), and every distribution built from source (an index sdist, a
local archive or directory, a VCS checkout, a path dependency of a lock) is built again instead
of taking a wheel built earlier from a cache (a cache would hide a nondeterministic build; see
install._install_rebuilding). Then both zips are compared byte for byte, and any difference is
explained entry by entry.

From this tool's own build cache the rebuild takes only what needs no second proof, checked:
- deflated bytes, each inflated back to exactly the content it stands for (the key holds the
  content's hash, the level and zlib's version and fingerprint, so a hit is what this zlib
  makes of that content; the rebuild cannot vary zlib, only check the stream);
- bytecode groups an earlier verify proved: its rebuild compiled the group afresh and got
  exactly the bytes and failures the entry holds, and the entry still matches the hashes
  recorded then; a random eighth of them is compiled afresh again each time. Every other group
  is compiled afresh: a wrong entry, a changed source, a new dependency or another interpreter
  is proven by compiling. The rebuild reports the groups it compiled afresh, and once the zips
  agree, exactly those entries are recorded as proven (`record_proofs`).
No build script this tool runs can write this cache: it runs in a sandbox where the cache is
read-only (sandbox.py), and a cache an unsandboxed build from source could have written (the
LAMBDA_ZIP_UNSANDBOXED_BUILDS opt-in) is marked and never read again. It is trusted as the
user's own files are: another program running as that user could forge an entry together with
its proof, which would pass; verify with --no-cache where that matters.
With --no-cache neither build reads or writes it, and the rebuild compiles and deflates all.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_zip_action.build import BuildResult, SharedWork, build
from lambda_zip_action.bytecode_cache import FreshGroup, mark_proven, remove_contradicted
from lambda_zip_action.compile import default_workers
from lambda_zip_action.config import BuildConfig
from lambda_zip_action.errors import LambdaZipError
from lambda_zip_action.escape import plain
from lambda_zip_action.events import Event, Listener, ignore
from lambda_zip_action.launch import self_command
from lambda_zip_action.options import rebuild_arguments
from lambda_zip_action.proof.diff import diff
from lambda_zip_action.proof.explain import EntryExplanation, explain_entries
from lambda_zip_action.proof.load import file_sha256
from lambda_zip_action.proof.model import DiffResult
from lambda_zip_action.sbom import sbom_path


class RebuildError(LambdaZipError):
    """The second build failed where the first succeeded: that is itself not reproducible."""

    kind = "verify"


@dataclass(frozen=True)
class LayerVerification:
    """With --split: the layer zip's side of the proof."""

    second_sha256: str
    reproducible: bool
    differences: DiffResult | None
    entries: tuple[EntryExplanation, ...]


@dataclass(frozen=True)
class VerifyResult:
    first: BuildResult
    second_sha256: str
    function_reproducible: bool
    differences: DiffResult | None
    entries: tuple[EntryExplanation, ...]
    layer: LayerVerification | None = None

    @property
    def reproducible(self) -> bool:
        return self.function_reproducible and (self.layer is None or self.layer.reproducible)

    @property
    def exit_code(self) -> int:
        return 0 if self.reproducible else 1


def verify(
    config: BuildConfig,
    env: Mapping[str, str],
    on_event: Listener = ignore,
    workers: int | None = None,
    cache_dir: Path | None = None,
    shared: SharedWork | None = None,
) -> VerifyResult:
    """Build, then rebuild in a separate process set up to differ, then compare.

    The rebuild starts alongside the first build only once that build has read everything it
    packages: it installed without building anything from source (no build script ran that
    could rewrite a file) and copied its staged sources into its own directory. Otherwise it
    starts after the first build: a build step that rewrites a file (a version stamp, say)
    would race with itself and could write the same bytes for both builds.
    """
    scratch = Path(tempfile.mkdtemp(prefix="lambda-zip-verify-", dir=config.temp_root))
    rebuild: _Rebuild | None = None

    def start_alongside(interpreter: Path) -> None:
        nonlocal rebuild
        on_event(Event("stage", "Rebuilding from scratch in a different environment to verify, "
                                "alongside the first build"))  # fmt: skip
        rebuild = _Rebuild(config, interpreter if config.compile else None, env, scratch,
                           workers, (), cache_dir)  # fmt: skip

    try:
        first = build(config, env, on_event, workers, cache_dir=cache_dir,
                      on_inputs_read=start_alongside, shared=shared)  # fmt: skip
        if rebuild is None:
            on_event(Event("stage", "Rebuilding from scratch in a different environment to "
                                    "verify"))  # fmt: skip
            rebuild = _Rebuild(config, first.interpreter if config.compile else None, env,
                               scratch, workers, first.built_from_source, cache_dir)  # fmt: skip
        else:
            on_event(Event("stage", "Waiting for the verifying rebuild"))
        second_zip, fresh = rebuild.finish(on_event)
        on_event(Event("stage", "Comparing the two builds"))
        layer = None
        if first.layer is not None:
            layer = LayerVerification(*_compare(first.layer.output, first.layer.archive.sha256,
                                                _rebuilt_layer(second_zip),
                                                first.layer.sbom))  # fmt: skip
        second_sha, same, differences, entries = _compare(
            config.output, first.archive.sha256, second_zip, first.sbom
        )
        result = VerifyResult(first, second_sha, same, differences, entries, layer)
        if first.bytecode_groups and cache_dir is not None:
            _settle_cache(result, fresh, on_event)
        return result
    finally:
        if rebuild is not None:
            rebuild.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def _settle_cache(result: VerifyResult, fresh: tuple[FreshGroup, ...], on_event: Listener) -> None:
    """Say what the rebuild took from the cache; then prove the entries it compiled afresh (the
    zips agree), or remove those its fresh compile contradicts (they do not)."""
    first = result.first
    total, afresh = len(first.bytecode_groups), len(fresh)
    taken = (f", took the other {total - afresh} as proven by an earlier verify (--no-cache "
             "compiles all)") if afresh < total else ""  # fmt: skip
    if result.reproducible:
        proven = record_proofs(first, fresh)
        on_event(Event("info", f"the rebuild compiled {afresh} of {total} bytecode groups "
                               f"afresh{taken}; {proven} newly proven in the cache"))  # fmt: skip
        return
    by_key = {group.key: group for group in fresh}
    removed = [
        group
        for group in first.bytecode_groups
        if group.key in by_key and remove_contradicted(group, by_key[group.key])
    ]
    if removed:
        on_event(Event("warning", f"{len(removed)} bytecode cache entr"
                                  f"{'y' if len(removed) == 1 else 'ies'} the first build used "
                                  "did not match a fresh compile and "
                                  f"{'was' if len(removed) == 1 else 'were'} removed from the "
                                  "cache: build again to compile them afresh"))  # fmt: skip


def record_proofs(first: BuildResult, fresh: tuple[FreshGroup, ...]) -> int:
    """Mark proven the first build's cache entries that the rebuild compiled afresh (`fresh`,
    from its own report) to exactly the bytes and failures they hold, now that the two zips are
    identical; returns how many are newly proven."""
    by_key = {group.key: group for group in fresh}
    return sum(
        mark_proven(group, by_key[group.key])
        for group in first.bytecode_groups
        if group.key in by_key
    )


def rebuild_workers(workers: int | None) -> int:
    """The rebuild's --jobs: one more than the first build's, so more workers than cores.

    Another count changes how groups and batches are spread over workers and which finish first,
    and every core stays busy (a single worker left one idle on a two-core machine).
    """
    return (workers or default_workers()) + 1


def rebuild_invocation(
    config: BuildConfig,
    interpreter: Path | None,
    env: Mapping[str, str],
    directory: Path,
    workers: int | None,
    rebuilt: tuple[str, ...],
    cache_dir: Path | None = None,
) -> tuple[list[str], dict[str, str], Path]:
    """(argv, environment, working directory) of the rebuild, writing under `directory`.

    With `cache_dir` the rebuild reads that cache as a proof needs (`--proving-cache`: proven
    bytecode only, deflated bytes checked by inflating, nothing written); else none at all.
    """
    deep = directory / "a" / "much" / "deeper" / "temporary" / "directory"
    deep.mkdir(parents=True)
    output = directory / "rebuild" / config.output.name
    overrides: dict[str, object] = {
        "output": output,
        "python": interpreter,
        "compile": interpreter is not None,
    }
    if config.split:
        overrides["layer_output"] = _rebuilt_layer(output)
    selection: list[str] = []
    if config.function is not None:
        # The rebuild reads the same deploy configuration: the function's sources and rules
        # come from there, as in the first build.
        overrides["sources"] = None
        selection = ["--function", config.function]
        if config.deploy_choice is not None:
            selection += ["--deploy-config", config.deploy_choice]
    command = [
        *self_command(), "build", "--project", str(config.project_dir),
        *rebuild_arguments(config, overrides), *selection,
        "--jobs", str(rebuild_workers(workers)),
        "--reverse-traversal", "--rebuild-sdists", "--json",
        *(["--cache-dir", str(cache_dir), "--proving-cache"] if cache_dir else ["--no-cache"]),
    ]  # fmt: skip
    for label in rebuilt:
        command += ["--rebuild-from-source", label]
    return differing_process(command, env, deep, config.source_date_epoch)


def differing_process(
    command: list[str], env: Mapping[str, str], deep: Path, source_date_epoch: int | None
) -> tuple[list[str], dict[str, str], Path]:
    """`command` as the rebuild runs it: umask 077, another temporary directory (`deep`), time
    zone, locale and hash seed than `env` has; the same SOURCE_DATE_EPOCH as the first build."""
    child_env = {
        **env,
        "TMPDIR": str(deep),
        "TZ": "Pacific/Kiritimati" if env.get("TZ") != "Pacific/Kiritimati" else "America/Adak",
        "LC_ALL": "C" if env.get("LC_ALL", env.get("LANG", "")) != "C" else "C.UTF-8",
        "PYTHONHASHSEED": str(random.SystemRandom().randrange(1, 2**32 - 1)),
    }
    if source_date_epoch is not None:
        child_env["SOURCE_DATE_EPOCH"] = str(source_date_epoch)
    else:
        child_env.pop("SOURCE_DATE_EPOCH", None)
    # umask 077 set by a shell in the child rather than a preexec_fn in this process.
    return ["/bin/sh", "-c", 'umask 077 && exec "$0" "$@"', *command], child_env, deep


def _compare(
    first: Path, first_sha: str, second: Path, first_sbom: Path | None = None
) -> tuple[str, bool, DiffResult | None, tuple[EntryExplanation, ...]]:
    """The two zips compared; when they agree, the SBOMs beside them too (`first_sbom`)."""
    second_sha = file_sha256(second)
    if second_sha == first_sha:
        if first_sbom is not None and (why := _sboms_differ(first_sbom, sbom_path(second))):
            return second_sha, False, None, (EntryExplanation(first_sbom.name, why),)
        return second_sha, True, None, ()
    try:
        differences = diff(first, second)
        explained = explain_entries(first, second, differences)
    except (LambdaZipError, zipfile.BadZipFile, OSError) as exc:
        # A zip that cannot be read entry by entry (a damaged cache entry shipped by the first
        # build, say) differs all the same: say why it cannot be explained further.
        return second_sha, False, None, (EntryExplanation("the zips", f"cannot be compared "
                                                          f"entry by entry: {exc}"),)  # fmt: skip
    return second_sha, False, differences, explained


def _sboms_differ(first: Path, second: Path) -> str | None:
    """Why the rebuild's SBOM is not the first build's, byte for byte; None when it is."""
    try:
        second_bytes = second.read_bytes()
    except OSError:
        return "the verifying rebuild wrote no SBOM beside its zip"
    first_bytes = first.read_bytes()
    if first_bytes == second_bytes:
        return None
    for number, (one, two) in enumerate(
        zip(first_bytes.splitlines(), second_bytes.splitlines(), strict=False), 1
    ):
        if one != two:
            return (f"the SBOM differs from the rebuild's (the zips are identical): line {number} "
                    f"is {plain(one.decode(errors='replace').strip())!r} in the first build and "
                    f"{plain(two.decode(errors='replace').strip())!r} in the rebuild")  # fmt: skip
    return "the SBOM differs from the rebuild's in length (the zips are identical)"


def _rebuilt_layer(second_zip: Path) -> Path:
    return second_zip.with_name("layer-" + second_zip.name)


def fresh_groups(document: Mapping[str, Any]) -> tuple[FreshGroup, ...]:
    """The bytecode groups a rebuild's JSON says it compiled afresh."""
    return tuple(
        FreshGroup(
            str(group["key"]),
            tuple(None if h is None else str(h) for h in group["sha256"]),
            tuple((str(path), str(why)) for path, why in group["failed"]),
        )
        for group in document.get("compiled-afresh", [])
    )


class _Rebuild:
    """The second build: this tool in a fresh process, set up to differ from the first."""

    def __init__(
        self,
        config: BuildConfig,
        interpreter: Path | None,
        env: Mapping[str, str],
        scratch: Path,
        workers: int | None,
        rebuilt: tuple[str, ...],
        cache_dir: Path | None,
    ) -> None:
        self.start(scratch, *rebuild_invocation(config, interpreter, env, scratch, workers,
                                                rebuilt, cache_dir))  # fmt: skip

    def start(self, scratch: Path, command: list[str], child_env: dict[str, str],
              cwd: Path) -> None:  # fmt: skip
        # Files, not pipes: the child's output is read once it has finished.
        self.stdout = (scratch / "rebuild.out").open("w+")
        self.stderr = (scratch / "rebuild.err").open("w+")
        self.process = subprocess.Popen(
            command,
            env=child_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self.stdout,
            stderr=self.stderr,
            text=True,
        )

    def finish(self, on_event: Listener) -> tuple[Path, tuple[FreshGroup, ...]]:
        """The rebuilt zip, and the bytecode groups the rebuild compiled afresh."""
        document = self.document(on_event)
        if "functions" in document:  # one function (or layer) of a deploy configuration
            rows = [*document.get("functions", []), *document.get("layers", [])]
            if len(rows) != 1:
                raise RebuildError(
                    f"The verifying rebuild built {len(rows)} packages where one was asked "
                    "for: the deploy configuration read differently the second time."
                )
            document = rows[0]
        return Path(document["path"]), fresh_groups(document)

    def document(self, on_event: Listener) -> dict[str, Any]:
        """The rebuild's `--json` document, once it has finished; its stderr as events."""
        code = self.process.wait()
        self.stdout.seek(0)
        self.stderr.seek(0)
        out, err = self.stdout.read(), self.stderr.read()
        for line in err.splitlines():
            on_event(Event("info", f"rebuild: {line}"))
        if code != 0:
            raise RebuildError(
                "The first build succeeded but the verifying rebuild failed, so the build is "
                f"not reproducible: {err.strip().splitlines()[-1:] or code}"
            )
        document: dict[str, Any] = json.loads(out)
        return document

    def stop(self) -> None:
        """End the child if it still runs (the first build failed or was interrupted)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stdout.close()
        self.stderr.close()
