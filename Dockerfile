# Production-like image for web, workers and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time and served by whitenoise.
RUN SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --no-input -v 0 \
    && useradd --create-home --uid 1000 bookshare && mkdir -p /app/var && chown -R bookshare /app/var
USER bookshare

EXPOSE 8000
CMD ["gunicorn", "bookshare.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
