"""lambda-zip-action: reproducible AWS Lambda zips for Python projects."""

__version__ = "0.1.0"
