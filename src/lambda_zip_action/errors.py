"""The project's errors.

Inner code only raises these; the entry points (the CLI and the GitHub layer) turn them into a
one-paragraph message and an exit code. Each message says what failed and what to do next.
"""

from __future__ import annotations


class LambdaZipError(Exception):
    """Base class: a failure the user can act on. Never shown with a traceback."""

    exit_code = 2
    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(LambdaZipError):
    """Invalid options, settings or project layout."""

    kind = "configuration"


class RequirementsError(LambdaZipError):
    """A lock or requirements file that cannot be read or used."""

    kind = "requirements"


class InterpreterError(LambdaZipError):
    """No usable interpreter for the target Python version."""

    kind = "interpreter"


class InstallError(LambdaZipError):
    """The installer failed: resolution, download, or a missing wheel for the platform."""

    kind = "install"


class SourceError(LambdaZipError):
    """A source tree that cannot be packaged as it is (escaping links, special files...)."""

    kind = "source"


class CompileError(LambdaZipError):
    """Bytecode compilation failed (usually a syntax error for the target version)."""

    kind = "compile"


class OutputError(LambdaZipError):
    """The output cannot be written where it was asked to go."""

    kind = "output"


class LimitError(LambdaZipError):
    """The package exceeds Lambda's size limits and the build was told to fail on that."""

    kind = "limits"


class ArchiveReadError(LambdaZipError):
    """A zip or manifest that cannot be read: truncated, corrupt, or not a zip at all."""

    kind = "archive"


class DeployConfigError(ConfigError):
    """A deploy configuration (template.yaml, serverless.yml, ...) that is present but cannot be
    understood, or that declares something Lambda would not run."""

    kind = "deploy configuration"


class AwsError(LambdaZipError):
    """What is deployed could not be read from AWS: no credentials, access denied, no such
    function, object or bucket, an endpoint that does not answer."""

    kind = "AWS"
