"""Code shared by the functions of one repository."""

__version__ = "1.0.0"


def greet(name):
    return f"hello {name}"
