"""Header links for the reporting stage."""

from django.urls import reverse

from governance.ui import NavItem


def navigation(request, roles) -> list[NavItem]:
    # The register is public: everyone signed in gets the link too, after their own work.
    return [NavItem("Award register", reverse("reporting:register"), order=90)]
