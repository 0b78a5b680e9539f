"""The proof tools: prove a build reproducible (`verify`: build again where a careless pipeline
would differ, compare, explain each difference with `explain`), compare two packages (`diff`),
lint one (`inspect`), and show what they find (`render` for text and JSON, `drift_report` for
the markdown a reviewer reads).
"""
