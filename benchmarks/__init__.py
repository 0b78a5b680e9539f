"""Benchmarks for issue 5: `lambda-zip build` against the usual ways of building a Lambda zip.

Run `.venv/bin/python -m benchmarks.run --help`; benchmarks/README.md explains what is measured.
"""
