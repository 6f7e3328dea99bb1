"""aivitals: the vitals of AI systems in production, as Prometheus metrics."""

from ._version import __version__

__all__ = ["__version__"]
