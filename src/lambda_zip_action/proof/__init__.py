"""The proof tools: compare two packages (`diff`), lint one (`inspect`), and show what they find
(`render` for text and JSON, `drift_report` for the markdown a reviewer reads).

`verify.py` proves a build reproducible with `diff`; it stays beside the build it reruns.
"""
