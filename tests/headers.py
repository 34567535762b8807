"""Response headers read as a browser reads them."""

from __future__ import annotations


def csp_directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}. django-csp
    writes the directives in no fixed order (it walks a set, whose order
    changes with each process's hash seed), so tests compare them by name."""
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        words = directive.split()
        if words:
            directives[words[0]] = words[1:]
    return directives
