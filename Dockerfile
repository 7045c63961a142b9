# C360 demo image: Python 3.11, OpenJDK 17 (for Spark), the locked runtime dependencies.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv

WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock .python-version README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY c360_pipeline ./c360_pipeline
COPY c360_api ./c360_api
COPY mock_data ./mock_data
COPY sql ./sql
RUN uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:$PATH" \
    C360_DATA_DIR=/data \
    C360_API_HOST=0.0.0.0 \
    C360_SPARK_DRIVER_MEMORY=2g
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/openapi.json')"

# Generate demo data once (kept in the /data volume), build a snapshot unless the inputs are
# unchanged since the last one, then serve.
CMD ["sh", "-c", "python -m mock_data --customers ${DEMO_CUSTOMERS:-10000} --if-missing && c360-pipeline run --if-changed && exec c360-api serve"]
