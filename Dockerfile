# The portal's image: used by docker-compose.yml for web, worker and beat.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./frontend
RUN mkdir -p static && npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=fundportal.settings.production
# WeasyPrint needs Pango; fonts for readable PDFs.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core fonts-liberation curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
COPY --from=assets /app/static/compiled ./static/compiled
RUN SECRET_KEY=build-only-secret-key-not-used-at-runtime-0123456789abcdef ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput
RUN useradd --create-home portal && mkdir -p /app/var/media && chown -R portal /app/var
USER portal
EXPOSE 8000
CMD ["gunicorn", "fundportal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
