"""``aivitals demo``: a simulated AI service instrumented with the SDK, and the executive tiles live."""

from .run import Demo, DemoOptions

__all__ = ["Demo", "DemoOptions"]
