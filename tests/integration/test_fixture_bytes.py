"""The bytes of the fixture zips, pinned: a refactor that changes them is not a refactor.

The values were the same before and after this code was reorganised (options table, one zip
format module, records, the report) and equal what the first published version built. A change
that alters them on purpose (a new normalisation rule, say) updates them here and says why in
its commit and in docs/determinism.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import support

PINNED = {
    "uvlock": "33cd62fda586fc40d3455bcbc23818887543a594eb3d6e764969b2340d916e67",
    "poetry": "7a19d0236850dab9460bfe7fd08e1f830054592faa9fd00e7276a1e8d84c448d",
    "reqhash": "2eba8f018df6d7939c94c753e934748f2468da1ef4ce819237e9b9f951fb30f7",
    "sdist": "bdaa6305c1a54beb48f8f45179cc50647f64196438e02f8142d5757a5515adf7",
}


@pytest.mark.parametrize("project", sorted(PINNED))
def test_fixture_zip_bytes_are_unchanged(project: str, tmp_path: Path) -> None:
    built = support.build_project(support.PROJECTS / project, tmp_path / "lambda.zip")
    assert built["sha256"] == PINNED[project]
