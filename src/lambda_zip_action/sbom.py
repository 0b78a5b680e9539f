"""The SBOM: a CycloneDX 1.6 document of exactly what one zip holds, written beside it.

It is made from what the manifest already holds (every entry with its sha256 and the
distribution that installed it), the wheels' own METADATA and PEP 770 `.dist-info/sboms/`
files as the zip holds them, and the lock's hashes. Its parts:

- `metadata.component`: the package, with the zip's sha256 and the target as properties;
- a `library` component per distribution (name, version, `pkg:pypi` purl, licence from
  METADATA, the lock's hashes), its files nested in it as `file` components with their sha256;
- an `application` component for the project's own code, its files (bytecode too) nested;
- a distribution's PEP 770 SBOMs: each a `bom` external reference with its sha256 (its path in
  the zip as the URL), and the components of a CycloneDX JSON one nested in the distribution's;
- `dependencies`: the package depends on its code and every distribution; each distribution
  on the others its `Requires-Dist` names for the target (markers evaluated, extras not).

It is itself reproducible: the serial number is a UUID derived from the zip's sha256, there is
no timestamp unless SOURCE_DATE_EPOCH gives one, and keys and components are sorted.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import fixup_id
from packageurl import PackageURL
from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lambda_zip_action import __version__
from lambda_zip_action.toml_text import TomlError, parse_toml

SUFFIX = ".cdx.json"
# The namespace of every serial number: uuid5(NAMESPACE, "<zip sha256>").
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/lambda-zip-action/sbom")
PACKAGE_REF = "package"
OWN_CODE_REF = "own-code"
FILE_REF = "file:"  # + the entry's path in the zip
# A PEP 770 SBOM is the wheel's to write: read at most this much, nest at most this many.
NESTED_READ_LIMIT = 4 * 1024 * 1024
NESTED_COMPONENTS_LIMIT = 10_000
_ALGORITHMS = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}
_LICENCE_CLASSIFIER = re.compile(r"License :: (?:OSI Approved :: )?(.+)")

Reader = Callable[[str], bytes | None]


def sbom_document(
    manifest: Mapping[str, Any],
    name: str,
    *,
    lock_hashes: Mapping[str, tuple[str, ...]],
    read: Reader,
    marker_environment: Mapping[str, str],
    source_date_epoch: int | None,
) -> bytes:
    """The SBOM of the zip `manifest` describes, as bytes to write beside it.

    `name` names the package (the function, else the project); `lock_hashes` are the lock's
    `algorithm:hex` hashes by PEP 503 name; `read(path)` is the content of an entry of the zip
    (METADATA, PEP 770 SBOMs), None when it cannot be read.
    """
    archive, target = manifest["archive"], manifest["target"]
    layer = target.get("layout") == "layer"
    bom = Bom(serial_number=uuid.uuid5(NAMESPACE, archive["sha256"]))
    # The library stamps the time it runs; None leaves `timestamp` out of the document.
    bom.metadata.timestamp = (
        datetime.datetime.fromtimestamp(source_date_epoch, datetime.timezone.utc)
        if source_date_epoch is not None
        else None  # type: ignore[assignment]
    )
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="lambda-zip-action", version=__version__)
    )
    package = Component(
        type=ComponentType.LIBRARY if layer else ComponentType.APPLICATION,
        name=name,
        bom_ref=PACKAGE_REF,
        description="AWS Lambda " + ("layer" if layer else "function") + " zip",
        hashes=[_sha256(archive["sha256"])],
        properties=[
            Property(name=f"lambda-zip:{key}", value=str(target[key]))
            for key in sorted(target)
            if target[key] is not None
        ]
        + [Property(name="lambda-zip:content-digest", value=archive["content-digest"])],
    )
    bom.metadata.component = package

    files: dict[str, list[Mapping[str, Any]]] = {}
    for entry in manifest["entries"]:
        if entry.get("sha256") is not None:
            files.setdefault(entry.get("owner") or "", []).append(entry)
    prefix = "python/" if layer else ""
    metadata = _dist_metadata(manifest, read, prefix)

    parts = []
    # Each file is a component of its distribution (or of the own code), added to the
    # document as the library would write it, after the library has written the rest: the
    # library keeps components in sorted sets, and thousands of files took seconds per zip.
    file_components: dict[str, list[dict[str, Any]]] = {}
    for dist in manifest["distributions"]:
        component = _distribution(dist, metadata.get(dist["name"]), lock_hashes)
        file_components[str(component.bom_ref.value)] = [
            _file(entry) for entry in files.get(dist["name"], [])
        ]
        digests = {entry["path"]: entry["sha256"] for entry in files.get(dist["name"], [])}
        for path in _pep770_files(files.get(dist["name"], []), prefix):
            _nest_sbom(component, path, read, digests.get(path))
        parts.append(component)
    own = files.get("", [])
    if own:
        code = Component(
            type=ComponentType.APPLICATION,
            name=name,
            bom_ref=OWN_CODE_REF,
            description="the project's own code: every file no distribution installed",
        )
        file_components[OWN_CODE_REF] = [_file(entry) for entry in own]
        parts.append(code)
    for component in parts:
        bom.components.add(component)
    bom.register_dependency(package, parts)
    by_name = {c.name: c for c in parts if c.bom_ref.value != OWN_CODE_REF}
    for dist in manifest["distributions"]:
        needs = _requires(metadata.get(dist["name"]), marker_environment)
        bom.register_dependency(
            by_name[dist["name"]], [by_name[n] for n in sorted(needs) if n in by_name]
        )
    # Sorted again by key: the library's field order is its own, and may change between releases.
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    for component in document.get("components", []):
        added = file_components.get(component.get("bom-ref", ""), [])
        if added:
            nested = [*component.get("components", []), *added]
            order = lambda c: (c["type"], c["name"], c.get("bom-ref", ""))  # noqa: E731
            component["components"] = sorted(nested, key=order)
    # Compact: with `indent` the json module encodes in Python (a tenth of a second for an
    # SBOM of a thousand files, profiled), and an SBOM is read by programs.
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode()


def sbom_path(zip_path: Path) -> Path:
    """Where the SBOM of the zip at `zip_path` is written: `<zip>.cdx.json` beside it."""
    return zip_path.with_name(zip_path.name + SUFFIX)


def package_name(function: str | None, project_dir: Path, output: Path) -> str:
    """The package's name in its SBOM: the function's, else the project's `[project] name`,
    else the zip's stem; never the directory's name, which differs between checkouts."""
    if function is not None:
        return function
    try:
        project = parse_toml((project_dir / "pyproject.toml").read_text(encoding="utf-8"))
        name = project["project"]["name"]
        if isinstance(name, str) and name.strip():
            return name.strip()
    except (OSError, UnicodeDecodeError, TomlError, KeyError, TypeError):
        pass
    return output.stem


def lock_hashes(lines: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """PEP 503 name -> the `algorithm:hex` hashes a hash-checked requirement line pins."""
    found: dict[str, tuple[str, ...]] = {}
    for line in lines:
        hashes = tuple(sorted(re.findall(r"--hash[=\s]\s*(\S+)", line)))
        if not hashes:
            continue
        try:
            requirement = Requirement(re.sub(r"\s--hash[=\s]\s*\S+", "", " " + line).strip())
        except InvalidRequirement:
            continue
        found[canonicalize_name(requirement.name)] = hashes
    return found


def _sha256(digest: str) -> HashType:
    return HashType(alg=HashAlgorithm.SHA_256, content=digest)


def _file(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A file of the zip as a CycloneDX component, as the library writes a
    Component(type=FILE, name, bom_ref, hashes=[SHA-256])."""
    return {
        "type": ComponentType.FILE.value,
        "name": entry["path"],
        "bom-ref": FILE_REF + entry["path"],
        "hashes": [{"alg": HashAlgorithm.SHA_256.value, "content": entry["sha256"]}],
    }


def _distribution(
    dist: Mapping[str, Any],
    metadata: Mapping[str, Any] | None,
    lock_hashes: Mapping[str, tuple[str, ...]],
) -> Component:
    name, version = dist["name"], dist["version"]
    locked = lock_hashes.get(name, ())
    known = [h for h in locked if h.split(":", 1)[0] in _ALGORITHMS]
    properties = [Property(name="lambda-zip:source", value=dist["source"])]
    properties += [Property(name="lambda-zip:wheel-tag", value=tag) for tag in dist["wheel-tags"]]
    hashes = []
    if len(known) == 1:
        # The lock pins one artifact: that is the wheel (or sdist) installed.
        algorithm, digest = known[0].split(":", 1)
        hashes.append(HashType(alg=HashAlgorithm(_ALGORITHMS[algorithm]), content=digest))
    else:
        # The lock pins one per platform and format; the installer checked the one it used.
        properties += [Property(name="lambda-zip:lock-hash", value=h) for h in known]
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version,
        bom_ref=f"pkg:pypi/{name}@{version}",
        purl=PackageURL("pypi", name=name, version=version),
        hashes=hashes,
        licenses=_licences(metadata),
        properties=properties,
    )


def _dist_metadata(
    manifest: Mapping[str, Any], read: Reader, prefix: str
) -> dict[str, Mapping[str, Any]]:
    """PEP 503 name -> its METADATA headers, from the zip's `*.dist-info/METADATA`."""
    found: dict[str, Mapping[str, Any]] = {}
    for entry in manifest["entries"]:
        path = entry["path"].removeprefix(prefix)
        top, _, rest = path.partition("/")
        if rest != "METADATA" or not top.endswith(".dist-info") or not entry.get("owner"):
            continue
        content = read(entry["path"])
        if content is None:
            continue
        headers = HeaderParser().parsestr(content.decode("utf-8", "replace"), headersonly=True)
        found[entry["owner"]] = {
            "expression": headers.get("License-Expression"),
            "license": headers.get("License"),
            "classifiers": headers.get_all("Classifier") or [],
            "requires": headers.get_all("Requires-Dist") or [],
        }
    return found


def _licences(metadata: Mapping[str, Any] | None) -> list[Any]:
    """PEP 639's License-Expression, else the License field, else licence classifiers."""
    if metadata is None:
        return []
    expression = str(metadata["expression"] or "").strip()
    if expression:
        return [LicenseExpression(expression)]
    text = str(metadata["license"] or "").strip()
    if text and text.upper() != "UNKNOWN" and "\n" not in text and len(text) <= 200:
        spdx = fixup_id(text)  # "mit" -> "MIT"; None when it is no SPDX identifier
        return [DisjunctiveLicense(id=spdx) if spdx else DisjunctiveLicense(name=text)]
    names = sorted(
        {m.group(1).strip() for c in metadata["classifiers"] if (m := _LICENCE_CLASSIFIER.match(c))}
    )
    return [DisjunctiveLicense(name=n) for n in names if n and n != "OSI Approved"]


def _requires(metadata: Mapping[str, Any] | None, environment: Mapping[str, str]) -> set[str]:
    """The distributions `Requires-Dist` names for the target, without extras."""
    needs: set[str] = set()
    for line in metadata["requires"] if metadata else ():
        try:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(
                {**environment, "extra": ""}
            ):
                needs.add(canonicalize_name(requirement.name))
        except (InvalidRequirement, InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            continue
    return needs


def _pep770_files(entries: Sequence[Mapping[str, Any]], prefix: str) -> list[str]:
    """The distribution's PEP 770 SBOMs: files under its `.dist-info/sboms/`."""
    found = []
    for entry in entries:
        parts = entry["path"].removeprefix(prefix).split("/")
        if len(parts) >= 3 and parts[0].endswith(".dist-info") and parts[1] == "sboms":
            found.append(entry["path"])
    return sorted(found)


def _nest_sbom(component: Component, path: str, read: Reader, digest: str | None) -> None:
    """Reference the PEP 770 SBOM at `path` (its sha256 `digest`) from `component`; nest a
    CycloneDX one's components (name, version, purl, type) in it, each with a reference
    unique to it."""
    content = read(path)
    component.external_references.add(
        ExternalReference(
            type=ExternalReferenceType.BOM,
            url=XsUri(path),
            comment="a PEP 770 SBOM the wheel ships, at this path in the zip",
            hashes=[_sha256(digest)] if digest else [],
        )
    )
    if content is None or len(content) > NESTED_READ_LIMIT:
        return
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):
        return
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        return
    nested = document.get("components")
    items = nested[:NESTED_COMPONENTS_LIMIT] if isinstance(nested, list) else []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        kind = item.get("type")
        purl = None
        if isinstance(item.get("purl"), str):
            try:
                purl = PackageURL.from_string(item["purl"])
            except ValueError:
                purl = None
        component.components.add(
            Component(
                type=ComponentType(kind) if kind in _NESTED_TYPES else ComponentType.LIBRARY,
                name=item["name"],
                version=item["version"] if isinstance(item.get("version"), str) else None,
                purl=purl,
                bom_ref=f"{component.bom_ref.value}#{path}#{index}",
                properties=[Property(name="lambda-zip:from", value=path)],
            )
        )


# A nested SBOM's components keep their type, except `file`: only the zip's own files are files.
_NESTED_TYPES = {t.value for t in ComponentType} - {"file"}
