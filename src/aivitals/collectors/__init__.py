"""Scrape-time collectors: GPUs through NVML, the host and this process through psutil.

``register_collectors(registry)`` is the one call most code needs::

    from prometheus_client import CollectorRegistry
    from aivitals.collectors import register_collectors

    registry = CollectorRegistry()
    register_collectors(registry)

Both collectors share one ``aivitals_collector_errors_total`` counter, which
is registered beside them.
"""

from __future__ import annotations

from typing import Any

from prometheus_client.registry import Collector, CollectorRegistry

from .errors import CollectorErrors
from .gpu import GpuCollector
from .host import HostCollector

__all__ = ["CollectorErrors", "GpuCollector", "HostCollector", "register_collectors"]


def register_collectors(registry: CollectorRegistry, gpu: bool = True, host: bool = True, *,
                        nvml: Any | None = None, psutil: Any | None = None) -> list[Collector]:
    """Register the GPU and/or host collectors and their shared error counter on ``registry``.

    On a machine without an NVIDIA driver the GPU collector reports nothing
    and logs one line; asking for it there is safe. Returns what was
    registered, for ``registry.unregister``.
    """
    if not (gpu or host):
        return []
    errors = CollectorErrors()
    registered: list[Collector] = []
    if gpu:
        registered.append(GpuCollector(nvml, errors=errors))
    if host:
        registered.append(HostCollector(psutil, errors=errors))
    registered.append(errors)
    done: list[Collector] = []
    try:
        for collector in registered:
            registry.register(collector)
            done.append(collector)
    except ValueError:  # already registered (DuplicateTimeseries): leave the registry as it was
        for collector in done:
            registry.unregister(collector)
        raise
    return registered
