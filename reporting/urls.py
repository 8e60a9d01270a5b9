"""The reporting stage's URLs: each of its three packages keeps its own (one namespace)."""

from .impact.urls import urlpatterns as impact_patterns
from .monitoring.urls import urlpatterns as monitoring_patterns
from .register.urls import urlpatterns as register_patterns

app_name = "reporting"

urlpatterns = monitoring_patterns + register_patterns + impact_patterns
