"""Failures a user causes and can fix: the command line prints them as one line and exits 2."""

from __future__ import annotations

#: Top-level modules of the optional extras, so a missing one names the install that brings it.
EXTRA_OF_MODULE = {
    "grafana_foundation_sdk": "codegen", "yaml": "codegen", "fastapi": "sidecar", "uvicorn": "sidecar",
    "starlette": "sidecar", "pydantic": "sidecar", "pynvml": "gpu", "pyarrow": "parquet",
}


class UserProblem(Exception):
    """A problem and its fix, in one sentence: ``port 9464 is in use; pass --port``."""


def missing_module(name: str | None) -> str:
    """The one line for a missing optional dependency, naming the extra that installs it."""
    top = (name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return f"the Python module {top or '?'} is not installed; install it (pip install {top or '...'})"
    return f"this needs the {extra} extra ({top} is not installed): pip install 'aivitals[{extra}]'"
