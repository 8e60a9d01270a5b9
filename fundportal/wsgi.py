import os

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.production")
application = get_wsgi_application()

# Load the URLconf (every app's views) and its reverse map while the worker starts, so that no
# visitor's request pays for it: a worker's first page took about 0.9 s of CPU, most of it this.
reverse("healthz")
