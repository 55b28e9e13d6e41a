# leadflow: the web app, the API and the worker from one small image (non-root).
#   docker build -t leadflow .
#   docker run -p 8000:8000 -v leadflow:/var/lib/leadflow leadflow            # SQLite in the volume
#   docker compose up                                                          # with PostgreSQL
FROM python:3.11-slim AS build
RUN python -m venv /opt/leadflow
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN /opt/leadflow/bin/pip install --no-cache-dir /src

FROM python:3.11-slim
# pg_dump/pg_restore for `leadflow backup|restore` against PostgreSQL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/leadflow leadflow
COPY --from=build /opt/leadflow /opt/leadflow
COPY examples /opt/leadflow/examples
COPY docker/entrypoint.sh /usr/local/bin/leadflow-entrypoint
ENV PATH=/opt/leadflow/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LEADFLOW_DATABASE_URL=sqlite:////var/lib/leadflow/leadflow.db \
    LEADFLOW_HOST=0.0.0.0 \
    LEADFLOW_PORT=8000
USER leadflow
WORKDIR /var/lib/leadflow
VOLUME /var/lib/leadflow
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
ENTRYPOINT ["leadflow-entrypoint"]
CMD ["serve"]
