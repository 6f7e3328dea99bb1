"""GPU and host saturation, and aivitals' own health."""

from __future__ import annotations

from ..schema import Area, Comparison, Dashboard, Threshold, Unit, Vital

INFRA: tuple[Vital, ...] = (
    Vital(
        id="gpu_utilization", number=None, title="GPU utilization", area=Area.INFRA,
        description="Share of time a kernel ran, per GPU.",
        unit=Unit.RATIO, metrics=("aivitals_gpu_utilization_ratio",),
        query="avg by (namespace, instance, gpu) (aivitals_gpu_utilization_ratio{SEL})",
        record="instance_gpu:aivitals_gpu_utilization:avg",
        dashboard=Dashboard.GPU_HOST, row="GPU", order=1, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.90, critical=0.98, config_key="gpu_utilization_max",
                      for_="30m", maximum=1.0, reason="Saturated GPUs queue requests: add capacity before p95 moves."),
        ),
        first_step="Add replicas or batch better; check whether one process hogs the device.",
    ),
    Vital(
        id="gpu_memory_utilization", number=None, title="GPU memory in use", area=Area.INFRA,
        description="Device memory used over installed.",
        unit=Unit.RATIO, metrics=("aivitals_gpu_memory_used_bytes", "aivitals_gpu_memory_total_bytes"),
        query="sum by (namespace, instance, gpu) (aivitals_gpu_memory_used_bytes{SEL}) / sum by (namespace, "
              "instance, gpu) (aivitals_gpu_memory_total_bytes{SEL})",
        record="instance_gpu:aivitals_gpu_memory_utilization:ratio",
        dashboard=Dashboard.GPU_HOST, row="GPU", order=2, grafana_unit="percentunit",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.90, critical=0.97,
                      config_key="gpu_memory_utilization_max", for_="15m", maximum=1.0,
                      reason="Near-full device memory ends in out-of-memory errors and evicted KV caches."),
        ),
        first_step="Lower batch size or KV-cache share; look for a leak across restarts.",
    ),
    Vital(
        id="gpu_power", number=None, title="GPU power", area=Area.INFRA,
        description="Power draw per GPU.",
        unit=Unit.WATTS, metrics=("aivitals_gpu_power_watts",),
        query="sum by (namespace, instance, gpu) (aivitals_gpu_power_watts{SEL})",
        record="instance_gpu:aivitals_gpu_power_watts:sum",
        dashboard=Dashboard.GPU_HOST, row="GPU", order=3, grafana_unit="watt",
    ),
    Vital(
        id="host_cpu_utilization", number=None, title="Host CPU", area=Area.INFRA,
        description="Host CPU busy share.",
        unit=Unit.RATIO, metrics=("aivitals_host_cpu_utilization_ratio",),
        query="max by (namespace, instance) (aivitals_host_cpu_utilization_ratio{SEL})",
        record="instance:aivitals_host_cpu_utilization:max",
        dashboard=Dashboard.GPU_HOST, row="Host", order=1, grafana_unit="percentunit",
    ),
    Vital(
        id="host_memory_utilization", number=None, title="Host memory", area=Area.INFRA,
        description="Host memory in use.",
        unit=Unit.RATIO, metrics=("aivitals_host_memory_utilization_ratio",),
        query="max by (namespace, instance) (aivitals_host_memory_utilization_ratio{SEL})",
        record="instance:aivitals_host_memory_utilization:max",
        dashboard=Dashboard.GPU_HOST, row="Host", order=2, grafana_unit="percentunit",
    ),
    Vital(
        id="sdk_errors", number=None, title="SDK internal errors", area=Area.SDK,
        description="Failures inside aivitals itself, per second. User calls are unaffected, but vitals may be "
                    "missing.",
        unit=Unit.NONE, metrics=("aivitals_sdk_errors_total",),
        query="sum by (namespace, stage) (rate(aivitals_sdk_errors_total{SEL}[WINDOW]))",
        record="stage:aivitals_sdk_errors:rateWINDOW", windows=("5m",),
        dashboard=Dashboard.OPERATIONS, row="aivitals itself", order=1, grafana_unit="short",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.0, critical=None, config_key="sdk_error_rate_max",
                      for_="15m", reason="Any internal error means some vitals are missing."),
        ),
        first_step="Read the stage label: 'cost' is usually an unpriced model, 'labels' an unexpected value; fix "
                   "the config. User calls are not affected.",
    ),
    Vital(
        id="collector_errors", number=None, title="GPU and host reads failing", area=Area.SDK,
        description="NVML and psutil reads that failed, per second, by field. A count that stops growing after "
                    "start-up is fields a device does not support; one that keeps growing is reads failing now (a "
                    "lost GPU, a driver gone or hung: field gpu_nvml or gpu_busy).",
        unit=Unit.NONE, metrics=("aivitals_collector_errors_total",),
        query="sum by (namespace, instance, field) (rate(aivitals_collector_errors_total{SEL}[WINDOW]))",
        record="instance_field:aivitals_collector_errors:rateWINDOW", windows=("5m",),
        dashboard=Dashboard.OPERATIONS, row="aivitals itself", order=2, grafana_unit="short",
        thresholds=(
            Threshold(comparison=Comparison.ABOVE, warning=0.0, critical=None, config_key="collector_error_rate_max",
                      for_="15m",
                      reason="Reads failing for 15 minutes leave GPU and host panels blank or stale; a count at "
                             "start-up alone does not last that long."),
        ),
        first_step="Read the field label. gpu_nvml or gpu_busy: run nvidia-smi on the node; a driver that is gone "
                   "or hung needs the node drained and the driver reloaded or the GPU reset. Another gpu_ field "
                   "growing on one GPU: check it for Xid errors in the kernel log. host_ or process_ fields: psutil "
                   "is denied access, usually a container's security context. User calls are not affected.",
    ),
)
