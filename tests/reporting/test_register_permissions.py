"""Permission matrix: every register, open data and API view × every role.

Everything here is public, so every role gets the same answers: 200 for published things and
404 for anything unpublished — a fund manager who can see an award in the awards pages gets no
more from the public register than an anonymous visitor does.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.reporting.register_builders import Scene, people

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous", "applicant of this org", "applicant of another org", "commissioner", "assessor", "panel chair",
    "fund manager of this network", "fund manager of another network", "auditor",
]


def views(scene) -> list[tuple[str, str, int]]:
    published, hidden = scene.a1.reference, scene.hidden[0].reference
    return [
        ("register", "/register/", 200),
        ("register filtered", "/register/?fund=adoption-fund&q=frailty", 200),
        ("award", f"/register/{published}/", 200),
        ("unpublished award", f"/register/{hidden}/", 404),
        ("360Giving", "/register/360giving.json", 200),
        ("CSV", "/register/awards.csv", 200),
        ("XLSX", "/register/awards.xlsx", 200),
        ("API root", "/api/v1/", 200),
        ("API awards", "/api/v1/awards/", 200),
        ("API award", f"/api/v1/awards/{published}/", 200),
        ("API unpublished award", f"/api/v1/awards/{hidden}/", 404),
        ("API calls", "/api/v1/calls/", 200),
        ("API call", f"/api/v1/calls/{scene.call_a.slug}/", 200),
        ("API reports", "/api/v1/reports/", 200),
        ("API schema", "/api/schema/", 200),
        ("API docs", "/api/docs/", 200),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_same_public_answers(client, role):
    cache.clear()
    scene = Scene()
    user = people(scene)[role]
    if user is not None:
        client.force_login(user)
    secrets = [award.title.encode() for award in scene.hidden]
    for name, url, expected in views(scene):
        response = client.get(url)
        assert response.status_code == expected, (role, name, response.status_code)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        for secret in secrets:
            assert secret not in content, (role, name)
