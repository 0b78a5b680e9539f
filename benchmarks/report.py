"""Turn measured samples into docs/benchmarks.md and its chart. Nothing here measures."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.fresh import KINDS as FRESH_KINDS
from benchmarks.fresh import FreshTimes
from benchmarks.methods import METHODS
from benchmarks.monorepo import KINDS as MONOREPO_KINDS
from benchmarks.monorepo import MonorepoTimes
from benchmarks.probes import ArchiveTimes, ImportTimes, PackageShape
from benchmarks.stages import KINDS, StageTimes

MiB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss: int  # the largest process of the method's tree
    own_rss: int | None = None  # the lambda-zip process alone ((d), (e))


@dataclass
class Results:
    command: str
    date: str
    machine: dict[str, str]
    versions: dict[str, str]
    fixtures: list[str]
    runs: dict[str, int]  # warm, cold, import, archive
    verify_mode: str
    samples: dict[tuple[str, str, str], list[Sample]] = field(default_factory=dict)
    shapes: dict[str, PackageShape] = field(default_factory=dict)
    imports: dict[str, ImportTimes] = field(default_factory=dict)
    archive_fixture: str | None = None
    archive: ArchiveTimes | None = None
    stages: dict[str, StageTimes] = field(default_factory=dict)
    monorepo: MonorepoTimes | None = None
    fresh: dict[str, FreshTimes] = field(default_factory=dict)

    def median(self, fixture: str, method: str, cache: str) -> float | None:
        found = self.samples.get((fixture, method, cache))
        return statistics.median(s.seconds for s in found) if found else None

    def peak(self, fixture: str, method: str, cache: str) -> int | None:
        found = self.samples.get((fixture, method, cache))
        return int(statistics.median(s.peak_rss for s in found)) if found else None

    def own_peak(self, fixture: str, method: str, cache: str) -> int | None:
        found = [s.own_rss for s in self.samples.get((fixture, method, cache), [])]
        known = [value for value in found if value is not None]
        return int(statistics.median(known)) if known else None


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    goal: str
    met: bool | None  # None: not measured in this run


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _ratio_target(name: str, ratio: float | None, limit: float, what: str) -> Target:
    if ratio is None:
        return Target(name, "not measured", f"<= {limit:g}", None)
    return Target(name, f"{ratio:.2f} ({what})", f"<= {limit:g}", ratio <= limit)


def _warm_ratio(results: Results, fixture: str, top: str, bottom: str) -> float | None:
    return _ratio(results.median(fixture, top, "warm"), results.median(fixture, bottom, "warm"))


def targets(results: Results) -> list[Target]:
    found = []
    for fixture in ("medium", "large"):
        found.append(
            _ratio_target(
                f"(e) verify vs (b) recipe, {fixture}, warm",
                _warm_ratio(results, fixture, "e", "b"),
                0.5,
                "(e) / (b)",
            )
        )
    for fixture in ("medium", "large"):
        found.append(
            _ratio_target(
                f"(e) verify vs (d) build, {fixture}, warm",
                _warm_ratio(results, fixture, "e", "d"),
                2.5,
                "(e) / (d)",
            )
        )
    for fixture in ("medium", "large"):
        found.append(
            _ratio_target(
                f"(d) lambda-zip vs (c) uv + zip, {fixture}, warm",
                _warm_ratio(results, fixture, "d", "c"),
                1.3,
                "(d) / (c)",
            )
        )
    medium_imports = results.imports.get("medium")
    found.append(
        _ratio_target(
            "handler import with our .pyc vs without, medium",
            medium_imports.ratio if medium_imports else None,
            0.45,
            "with / without",
        )
    )
    found.append(
        _ratio_target(
            f"archive stage vs zip -X -r -6, {results.archive_fixture or 'large'} tree",
            results.archive.ratio if results.archive else None,
            1.0,
            "ours / Info-ZIP",
        )
    )
    found.append(_memory_target(results))
    found.append(_scaling_target(results))
    for fixture in ("medium", "large"):
        fresh = results.fresh.get(fixture)
        restored = fresh.ratio("action, cache restored") if fresh else None
        found.append(_ratio_target(
            f"fresh runner: the action's verified build, cache restored, vs (b), {fixture}",
            restored, 0.3, "action / (b)"))  # fmt: skip
    fresh = results.fresh.get("large")
    found.append(_ratio_target(
        "fresh runner: the action's verified build, every cache empty, vs (b), large",
        fresh.ratio("action, cold") if fresh else None, 1.0, "action / (b)"))  # fmt: skip
    monorepo = results.monorepo
    found.append(
        _ratio_target(
            f"monorepo: {monorepo.functions if monorepo else 10} functions of one lock vs one "
            "function, build --verify, warm",
            monorepo.ratio("verify") if monorepo else None,
            1.5,
            "all / one",
        )
    )
    return found


def _monorepo_section(results: Results) -> list[str]:
    monorepo = results.monorepo
    if monorepo is None:
        return []
    lines = [
        "## A monorepo: every function of one lock in one command",
        "",
        f"`benchmarks/monorepo.py`: {monorepo.functions} functions declared in "
        "`[tool.lambda-zip.functions]`, each "
        "its own code directory, all installing the medium fixture's lock; warm caches, the "
        "kinds interleaved run by run. `one` is `--function Fn0`, `all` builds every function.",
        "",
        "| Kind | Median (s) | Runs (s) |",
        "|---|---:|---|",
    ]
    for label, _ in MONOREPO_KINDS:
        samples = monorepo.samples.get(label, [])
        lines.append(f"| {label} | {_seconds(monorepo.median(label))} | "
                     f"{' '.join(f'{s:.2f}' for s in samples)} |")  # fmt: skip
    for what in ("build", "verify"):
        ratio = monorepo.ratio(what)
        shown = "-" if ratio is None else f"{ratio:.2f}"
        lines.append(f"| all / one, {what} | {shown} | |")
    return [*lines, ""]


def _fresh_section(results: Results) -> list[str]:
    if not results.fresh:
        return []
    lines = [
        "## A fresh runner: every cache empty, then the action's build cache restored",
        "",
        "`benchmarks/fresh.py`: each kind in a new directory with empty pip and uv caches, as a "
        "hosted runner starts, interleaved run by run. `seed recipe` is (b). `action` is the "
        "action's run step (`lambda-zip action` with a push event's inputs, verify on); "
        "`cache restored` first copies the build cache an earlier, untimed run of the action "
        "left (the copy is timed, as actions/cache's restore is part of the job).",
        "",
        "| Fixture | Kind | Median (s) | / seed recipe | Runs (s) |",
        "|---|---|---:|---:|---|",
    ]
    for fixture, fresh in results.fresh.items():
        for kind in FRESH_KINDS:
            samples = fresh.samples.get(kind, [])
            ratio = fresh.ratio(kind)
            lines.append(f"| {fixture} | {kind} | {_seconds(fresh.median(kind))} | "
                         f"{'-' if ratio is None else f'{ratio:.2f}'} | "
                         f"{' '.join(f'{s:.2f}' for s in samples)} |")  # fmt: skip
    return [*lines, ""]


def _measured_fixtures(results: Results) -> list[str]:
    present = [f for f in results.fixtures if f in results.shapes and results.peak(f, "d", "warm")]
    return sorted(present, key=lambda f: results.shapes[f].unzipped)


def _memory_target(results: Results) -> Target:
    name = "peak memory of the lambda-zip process in (d) follows the largest file, not the package"
    goal = "peak growth <= 0.25 x package growth"
    fixtures = [f for f in _measured_fixtures(results) if results.own_peak(f, "d", "warm")]
    if len(fixtures) < 2:
        return Target(name, "not measured (needs two fixtures)", goal, None)
    small, large = fixtures[0], fixtures[-1]
    grown = (results.own_peak(large, "d", "warm") or 0) - (
        results.own_peak(small, "d", "warm") or 0
    )
    package = results.shapes[large].unzipped - results.shapes[small].unzipped
    largest = results.shapes[large].largest - results.shapes[small].largest
    ratio = grown / package if package else math.inf
    measured = (
        f"{ratio:.2f} (own peak +{grown / MiB:.0f} MiB for package +{package / MiB:.0f} MiB "
        f"and largest file +{largest / MiB:.0f} MiB, {small} -> {large}: "
        f"{grown / largest if largest else math.inf:.1f} x the largest file's growth)"
    )
    return Target(name, measured, goal, ratio <= 0.25)


def _scaling_target(results: Results) -> Target:
    name = "time of (d) grows no worse than linearly with package bytes"
    goal = "log-log slope <= 1"
    fixtures = _measured_fixtures(results)
    if len(fixtures) < 2:
        return Target(name, "not measured (needs two fixtures)", goal, None)
    slopes = []
    for low, high in itertools.pairwise(fixtures):
        seconds = (results.median(high, "d", "warm") or 0) / (results.median(low, "d", "warm") or 1)
        size = results.shapes[high].unzipped / results.shapes[low].unzipped
        slopes.append((f"{low} -> {high}", math.log(seconds) / math.log(size)))
    measured = ", ".join(f"{label}: {slope:.2f}" for label, slope in slopes)
    return Target(name, measured, goal, max(slope for _, slope in slopes) <= 1.0)


def _seconds(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def _times(samples: list[Sample] | None) -> str:
    return " ".join(f"{s.seconds:.1f}" for s in samples) if samples else "-"


def _mib(value: int | None) -> str:
    return f"{value / MiB:.1f}" if value is not None else "-"


def markdown(results: Results, chart_name: str) -> str:
    lines = [
        "# Benchmarks: lambda-zip build against the usual recipes",
        "",
        f"Written by `{results.command}` on {results.date}. Every number below was measured in "
        "that run; regenerate this file instead of editing it. How it is measured: "
        "[benchmarks/README.md](../benchmarks/README.md).",
        "",
        f"![build times and import times]({chart_name})",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in results.machine.items()]
    lines += [f"| {key} | {value} |" for key, value in results.versions.items()]
    lines += [
        f"| runs | {results.runs['warm']} warm and {results.runs['cold']} cold per method and "
        f"fixture (median), methods interleaved run by run; {results.runs['import']} imports "
        f"per variant; {results.runs['archive']} archive-stage runs |",
        f"| (e) | {results.verify_mode} |",
        "",
        "## Targets",
        "",
        "| Target | Measured | Goal | Status |",
        "|---|---|---|---|",
    ]
    for target in targets(results):
        status = "not measured" if target.met is None else "met" if target.met else "**not met**"
        lines.append(f"| {target.name} | {target.measured} | {target.goal} | {status} |")
    lines += [
        "",
        "## Build time",
        "",
        "Seconds from nothing to a finished zip, median. Warm: caches filled by untimed runs "
        "of (a), (c), (d) and (e) first (so (e) re-verifies: its rebuild takes the bytecode "
        "groups an earlier verify proved from the cache and compiles nothing afresh; the "
        "stage tables below also time a verify with a warm cache and no proofs). Cold: a "
        "fresh, empty pip cache, UV_CACHE_DIR and lambda-zip bytecode cache "
        "(LAMBDA_ZIP_CACHE_DIR) for every run (downloads included). Peak RSS, warm median: "
        "tree is the largest process of the method's tree (wait4: uv, pip and compilers "
        "included); own is the lambda-zip process alone (getrusage RUSAGE_SELF in the "
        "process, (d) and (e)).",
        "",
        "| Fixture | Method | Warm (s) | Cold (s) | Warm ÷ (c) | Warm ÷ (b) | Peak RSS tree "
        "(MiB) | Peak RSS own (MiB) | Warm runs (s) | Cold runs (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for fixture in results.fixtures:
        uv_warm = results.median(fixture, "c", "warm")
        recipe_warm = results.median(fixture, "b", "warm")
        for method in METHODS:
            warm = results.median(fixture, method.key, "warm")
            cold = results.median(fixture, method.key, "cold")
            by_uv, by_recipe = _ratio(warm, uv_warm), _ratio(warm, recipe_warm)
            lines.append(
                f"| {fixture} | ({method.key}) {method.label} | {_seconds(warm)} | "
                f"{_seconds(cold)} | {_seconds(by_uv)} | {_seconds(by_recipe)} | "
                f"{_mib(results.peak(fixture, method.key, 'warm'))} | "
                f"{_mib(results.own_peak(fixture, method.key, 'warm'))} | "
                f"{_times(results.samples.get((fixture, method.key, 'warm')))} | "
                f"{_times(results.samples.get((fixture, method.key, 'cold')))} |"
            )
    lines += [
        "",
        "## Package size and how (d) scales",
        "",
        "| Fixture | Files | Unzipped (MiB) | Largest file (MiB) | (d) warm (s) | (d) s per MiB "
        "| (d) peak RSS, own process (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for fixture in results.fixtures:
        shape = results.shapes.get(fixture)
        if shape is None:
            continue
        warm = results.median(fixture, "d", "warm")
        per_mib = _ratio(warm, shape.unzipped / MiB)
        lines.append(
            f"| {fixture} | {shape.files} | {_mib(shape.unzipped)} | {_mib(shape.largest)} | "
            f"{_seconds(warm)} | {f'{per_mib:.3f}' if per_mib is not None else '-'} | "
            f"{_mib(results.own_peak(fixture, 'd', 'warm'))} |"
        )
    lines += _stage_section(results)
    lines += _monorepo_section(results)
    lines += _fresh_section(results)
    lines += [
        "",
        "## Cold start: importing the handler",
        "",
        "`import handler` timed in-process (time.perf_counter) by a fresh CPython 3.12 per run, "
        "from the extracted zip of (d), read-only, median; 'without .pyc' is the same tree with "
        "every `__pycache__` removed, which is what Lambda runs when a package ships no bytecode.",
        "",
        "| Fixture | With our .pyc (ms) | Without .pyc (ms) | With ÷ without |",
        "|---|---:|---:|---:|",
    ]
    for fixture, times in results.imports.items():
        lines.append(
            f"| {fixture} | {statistics.median(times.with_pyc) * 1000:.1f} | "
            f"{statistics.median(times.without_pyc) * 1000:.1f} | {times.ratio:.2f} |"
        )
    if results.archive is not None:
        lines += [
            "",
            f"## Archive stage alone ({results.archive_fixture} tree)",
            "",
            "`lambda_zip_action.stage.collect` + `lambda_zip_action.archive.write_zip` (level 6, "
            "one worker per CPU) in process, against `zip -X -r -6 -q`, on the same extracted "
            "package, interleaved, median.",
            "",
            "| Archiver | Median (s) | Runs (s) |",
            "|---|---:|---|",
            f"| collect + write_zip | {statistics.median(results.archive.ours):.2f} | "
            + " ".join(f"{t:.2f}" for t in results.archive.ours)
            + " |",
            f"| zip -X -r -6 | {statistics.median(results.archive.info_zip):.2f} | "
            + " ".join(f"{t:.2f}" for t in results.archive.info_zip)
            + " |",
        ]
    return "\n".join(lines) + "\n"


STAGE_HEADINGS = {
    "build": "(d) build",
    "rebuild": "verify's rebuild alone",
    "verify": "(e) verify: the first build, then what is left",
    "first-verify": "(e) with nothing proven yet",
}


def _stage_section(results: Results) -> list[str]:
    if not results.stages:
        return []
    runs = results.runs.get("profile", 0)
    lines = [
        "",
        "## Where the time goes: stages of a build, of verify's rebuild and of verify",
        "",
        f"Warm caches, median of {runs} interleaved runs per kind, seconds from each stage line "
        "to the next (`benchmarks/stages.py`). The rebuild is the exact command verify starts "
        "(`verify.rebuild_invocation`), run alone. In verify, `Rebuilding` marks the moment "
        "the rebuild starts alongside the first build (after its install and staging), "
        "`Waiting` is what is left of the rebuild once the first build is done, `Comparing` "
        "the byte comparison. The last column is a verify whose cache holds the compiled "
        "bytecode but no proof of it (a copy with the proofs removed): its rebuild compiles "
        "every group afresh, as the first verify after a dependency change does for that "
        "dependency.",
    ]
    for fixture, times in results.stages.items():
        stages: list[str] = []
        for kind in KINDS:
            stages += [stage for stage in times.stages(kind) if stage not in stages]
        lines += [
            "",
            f"### {fixture}",
            "",
            "| Stage | " + " | ".join(STAGE_HEADINGS[kind] for kind in KINDS) + " |",
            "|---|" + "---:|" * len(KINDS),
        ]
        for stage in stages:
            cells = []
            for kind in KINDS:
                value = times.median(kind, stage) if stage in times.stages(kind) else None
                cells.append(_seconds(value))
            lines.append(f"| {stage} | " + " | ".join(cells) + " |")
        lines.append(
            "| **total** | " + " | ".join(f"**{_seconds(times.total(k))}**" for k in KINDS) + " |"
        )
    return lines


def chart(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(results.fixtures) + (1 if results.imports else 0)
    figure, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4.2), squeeze=False)
    width = 0.4
    for axis, fixture in zip(axes[0], results.fixtures, strict=False):
        positions = range(len(METHODS))
        for offset, cache in ((-width / 2, "warm"), (width / 2, "cold")):
            values = [results.median(fixture, m.key, cache) or 0.0 for m in METHODS]
            axis.bar([p + offset for p in positions], values, width, label=cache)
        axis.set_xticks(list(positions), [f"({m.key})" for m in METHODS])
        axis.set_title(f"{fixture}: build time")
        axis.set_ylabel("seconds (median)")
        axis.legend()
    if results.imports:
        axis = axes[0][-1]
        names = list(results.imports)
        positions = range(len(names))
        with_pyc = [statistics.median(results.imports[n].with_pyc) * 1000 for n in names]
        without = [statistics.median(results.imports[n].without_pyc) * 1000 for n in names]
        axis.bar([p - width / 2 for p in positions], with_pyc, width, label="with our .pyc")
        axis.bar([p + width / 2 for p in positions], without, width, label="without .pyc")
        axis.set_xticks(list(positions), names)
        axis.set_title("import handler (cold start)")
        axis.set_ylabel("milliseconds (median)")
        axis.legend()
    caption = "  ".join(f"({m.key}) {m.label}" for m in METHODS)
    figure.text(0.5, 0.01, caption, ha="center", fontsize=7)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: Results, markdown_path: Path, chart_path: Path) -> None:
    chart(results, chart_path)
    try:
        chart_name = chart_path.relative_to(markdown_path.parent).as_posix()
    except ValueError:
        chart_name = chart_path.as_posix()
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(markdown(results, chart_name), encoding="utf-8")
