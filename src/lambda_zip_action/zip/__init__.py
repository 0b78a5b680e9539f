"""The zip format in one place: its records (`format`), the structure a reader parses
(`structure`, `parse`), and bounded access to content (`reader`, within `budget`).

The writer is `archive.py`; everything here reads, and every archive it reads is untrusted.
"""
