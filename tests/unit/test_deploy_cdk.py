"""deploy.discover on a synthesized CDK app: an asset copied from a project directory maps back
to it; a bundled asset (PythonFunction: the entry with its dependencies installed) maps to its
entry, said in a note; an asset no directory matches is built as it is, said too."""

from __future__ import annotations

import json
from pathlib import Path

from lambda_zip_action.deploy import discover

HANDLER = "def handler(event, context):\n    return 1\n"


def _app(root: Path, assets: dict[str, dict[str, str]], files: dict[str, str]) -> Path:
    resources = {
        f"Fn{index}": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": "index.handler", "Runtime": "python3.12"},
            "Metadata": {"aws:asset:path": asset, "aws:asset:property": "Code"},
        }
        for index, asset in enumerate(assets)
    }
    everything = {
        "cdk.json": '{"app": "python3 app.py"}',
        "cdk.out/manifest.json": "{}",
        "cdk.out/App.template.json": json.dumps({"Resources": resources}, indent=1),
        **{f"cdk.out/{a}/{n}": t for a, named in assets.items() for n, t in named.items()},
        **files,
    }
    for name, text in everything.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_bundled_asset_maps_to_its_entry(tmp_path: Path) -> None:
    bundled = {
        "index.py": HANDLER,
        "requirements.txt": "six==1.17.0\n",
        "six.py": "# installed\n",
        "six-1.17.0.dist-info/METADATA": "Name: six\n",
    }
    root = _app(
        tmp_path,
        {"asset.b1": bundled, "asset.x9": {"index.py": "other = 1\n"}},
        {
            "functions/orders/index.py": HANDLER,
            "functions/orders/requirements.txt": "six==1.17.0\n",
        },
    )
    found = discover(root)
    assert found is not None
    orders, unmatched = found.functions
    assert orders.code_dir == root / "functions" / "orders"
    assert orders.requirements == root / "functions" / "orders" / "requirements.txt"
    assert unmatched.code_dir == root / "cdk.out" / "asset.x9"
    assert any("bundling step" in note and "functions/orders" in note for note in found.notes)
    assert any("matches no project directory" in note for note in found.notes)
