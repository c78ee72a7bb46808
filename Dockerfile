FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY dialogs ./dialogs
COPY core ./core
COPY services ./services
COPY texts ./texts
COPY storage ./storage
COPY admin_cli ./admin_cli
COPY alembic.ini ./
RUN pip install --no-cache-dir . && useradd --create-home assistant && mkdir -p /app/data && chown assistant /app/data
USER assistant
VOLUME ["/app/data"]
CMD ["python", "-m", "bot", "run"]
