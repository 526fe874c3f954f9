# Earshot production image: gunicorn (web), or the same image running a Celery worker
# or beat (see docker-compose.yml). Settings come from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    EARSHOT_PRODUCTION=1 \
    EARSHOT_VAR_DIR=/var/lib/earshot

# The app's files stay root-owned; the earshot user writes only its home, /var/lib/earshot
# (beat's schedule, gunicorn's control socket).
RUN groupadd --system --gid 10001 earshot \
 && useradd --system --uid 10001 --gid earshot --home-dir /var/lib/earshot --no-create-home --shell /usr/sbin/nologin earshot \
 && mkdir -p /app /var/lib/earshot \
 && chown earshot:earshot /var/lib/earshot

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .
# collectstatic imports the production settings, which refuse a weak key: it gets a
# throwaway strong one, used for nothing and kept nowhere.
RUN pip install --no-deps . \
 && SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DATABASE_URL=postgresql://unused@localhost/unused REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
 && python -m compileall -q /app

USER earshot
EXPOSE 8000

# For the web server (the default command): GET /healthz must answer 200. Containers
# running a worker or beat from this image set their own check (docker-compose.yml does).
HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=5 CMD ["python", "config/healthcheck.py"]

# WEB_CONCURRENCY sets the number of gunicorn workers (gunicorn reads it itself);
# GUNICORN_CMD_ARGS adds any other option.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
