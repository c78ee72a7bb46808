FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HTTP_HOST=0.0.0.0 HTTP_PORT=8090 LOG_FORMAT=json
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY dialogs ./dialogs
COPY core ./core
COPY services ./services
COPY texts ./texts
COPY storage ./storage
COPY web ./web
COPY admin_cli ./admin_cli
COPY alembic.ini ./
RUN pip install --no-cache-dir . && useradd --create-home assistant && mkdir -p /app/data && chown assistant /app/data
USER assistant
VOLUME ["/app/data"]
EXPOSE 8090 8080 8081 8082
# Liveness only (/health): a database outage shows on /ready, and must not restart every worker.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HTTP_PORT', '8090'), timeout=4)"]
CMD ["python", "-m", "bot", "run"]
