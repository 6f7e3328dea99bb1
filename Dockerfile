# syntax=docker/dockerfile:1
# The aivitals sidecar image: `aivitals serve`, exactly as helm/aivitals runs it.
#
# The base is python:3.12-slim-bookworm pinned by digest, so a rebuild gets the same OS and Python.
# This digest was taken from public Dockerfiles that pin the same tag; it could not be checked from the
# machine this file was written on (no registry access). Check and refresh it on a machine with Docker:
#   docker buildx imagetools inspect python:3.12-slim-bookworm
# and pass another with --build-arg PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:<digest>.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254

# --- build: the aivitals wheel and the wheels of its runtime dependencies --------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Only the sidecar extra (FastAPI, uvicorn) and PyYAML for the config files: no test or dev dependencies.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip wheel --wheel-dir /wheels "$(ls /wheels/aivitals-*.whl)[sidecar]" pyyaml

# --- runtime: the wheels installed offline, a non-root user, nothing else ---------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels "aivitals[sidecar]" pyyaml \
 && groupadd --system --gid 10001 aivitals \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/aivitals \
      --shell /usr/sbin/nologin aivitals \
 && mkdir -p /var/lib/aivitals /etc/aivitals \
 && printf '{}\n' > /etc/aivitals/config.yaml \
 && printf '{}\n' > /etc/aivitals/thresholds.yaml \
 && chown 10001:10001 /var/lib/aivitals
# Numeric, so Kubernetes can verify runAsNonRoot without resolving a name.
USER 10001:10001
WORKDIR /var/lib/aivitals
VOLUME ["/var/lib/aivitals"]
EXPOSE 8000
ENTRYPOINT ["aivitals"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--store", "/var/lib/aivitals/aivitals.db", "--config", "/etc/aivitals/config.yaml", "--thresholds", "/etc/aivitals/thresholds.yaml"]
