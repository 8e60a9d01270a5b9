"""Channel × role matrix for awards (issue 13): every output carrying an award carries exactly
what the HTML page shows that person, no more; a denial is a 403 or a 404 (a sign-in redirect
for an anonymous visitor to a signed-in page), never a file with someone else's data.

The scene is ``tests.awards.visibility_scene``: a published award P (pot held by a second
network) and a declined award U, and a person for each role.
"""

from __future__ import annotations

import json

import pytest
import rules
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from awards import services, visibility
from awards.models import AwardStatus

from .visibility_scene import (
    EVIDENCE_NOTE,
    LEDGER,
    PRIVATE,
    ROLES,
    as_role,
    body,
    build_scene,
    denied,
    shown,
    xlsx_text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    return build_scene()


@pytest.mark.parametrize("role", ROLES)
def test_public_channels_carry_exactly_the_register_page(client, scene, role):
    client = as_role(client, scene, role)
    page = client.get(reverse("reporting:register"))
    assert page.status_code == 200
    on_page = shown(body(page), scene)
    assert on_page == {scene.published.reference}

    package = json.loads(body(client.get(reverse("reporting:register_360giving"))))
    assert shown(json.dumps(package["grants"]), scene) == on_page
    assert shown(body(client.get(reverse("reporting:register_csv"))), scene) == on_page
    assert shown(xlsx_text(client.get(reverse("reporting:register_xlsx"))), scene) == on_page
    api = json.loads(body(client.get(reverse("reporting:api_awards"))))
    assert {item["reference"] for item in api["results"]} == on_page

    # One award: the public page and the API answer for the same awards, and carry no private part.
    for award in (scene.published, scene.declined):
        html = client.get(reverse("reporting:award", args=[award.reference]))
        detail = client.get(reverse("reporting:api_award", args=[award.reference]))
        assert html.status_code == detail.status_code == (200 if award.reference in on_page else 404)
        if html.status_code == 200:
            for text in (body(html), body(detail)):
                assert EVIDENCE_NOTE not in text
                assert "dpia.pdf" not in text
                assert reverse("awards:letter_download", args=[award.reference, 1]) not in text
                assert str(award.offer_deadline) not in text


@pytest.mark.parametrize("role", ROLES)
def test_private_channels_serve_exactly_what_the_award_page_links(client, scene, role):
    client = as_role(client, scene, role)
    award = scene.published
    person = scene.people[role]
    page = client.get(reverse("awards:award_detail", args=[award.reference]))
    letter_url = reverse("awards:letter_download", args=[award.reference, 1])
    evidence_url = reverse("awards:condition_evidence_file", args=[award.reference, scene.condition.pk])
    letter = client.get(letter_url)
    evidence = client.get(evidence_url)
    returns = client.get(reverse("reporting:award_returns", args=[award.reference]))
    if role in PRIVATE:
        assert page.status_code == 200
        html = body(page)
        assert letter_url in html
        assert evidence_url in html
        assert letter.status_code == 200
        assert evidence.status_code == 200
        assert returns.status_code == 200
        assert visibility.sees_award_private(person, award)
    else:
        assert denied(page, role), page.status_code
        assert denied(letter, role)
        assert denied(evidence, role)
        assert denied(returns, role)
        assert person is None or not visibility.sees_award_private(person, award)
        assert EVIDENCE_NOTE not in body(page)


@pytest.mark.parametrize("role", ROLES)
def test_the_view_award_permission_is_the_award_queryset_s_rule(scene, role):
    person = scene.people[role] or AnonymousUser()
    listed = set(visibility.awards_visible_to(person).values_list("reference", flat=True))
    assert person.has_perm("awards.view_award", scene.published) == (role in PRIVATE)
    for award in (scene.published, scene.declined):
        assert person.has_perm("awards.view_award", award) == (award.reference in listed), award.reference


AWARD_PAGES = [
    ("awards:award_detail", lambda scene: [scene.published.reference]),
    ("awards:payments_csv", lambda scene: [scene.published.reference]),
    ("awards:letter_download", lambda scene: [scene.published.reference, 1]),
    ("awards:condition_evidence_file", lambda scene: [scene.published.reference, scene.condition.pk]),
    ("reporting:award_returns", lambda scene: [scene.published.reference]),
]


@pytest.mark.parametrize(("name", "args"), AWARD_PAGES)
@pytest.mark.parametrize("role", ["applicant_recipient", "manager_host"])
def test_award_pages_and_exports_ask_the_view_award_permission(client, scene, monkeypatch, name, args, role):
    url = reverse(name, args=args(scene))
    client = as_role(client, scene, role)
    assert client.get(url).status_code != 403
    # The same people, once the permission says no, are refused: the pages ask it.
    monkeypatch.setitem(rules.permissions.permissions, "awards.view_award", rules.always_deny)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_the_pot_ledger_csv_goes_to_exactly_those_whose_fund_page_links_it(client, scene, role):
    client = as_role(client, scene, role)
    fund = scene.fund
    page = client.get(fund.get_absolute_url())
    csv_url = reverse("awards:pot_ledger_csv", args=[fund.slug])
    download = client.get(csv_url)
    if role in LEDGER:
        assert page.status_code == 200
        assert csv_url in body(page)
        assert download.status_code == 200
        assert "Pot Holding pot" in body(download)
    else:
        assert denied(page, role) or csv_url not in body(page)
        assert denied(download, role)


def test_emails_about_an_award_go_only_to_its_private_audience(scene):
    from governance.models import Notification, User

    services.award_withdraw(actor=scene.manager, award=scene.published, reason="Project stopped")
    told = User.objects.filter(notifications__subject__contains=scene.published.reference).distinct()
    assert told.exists()
    for user in told:
        assert visibility.sees_award_private(user, scene.published), user
    assert not Notification.objects.filter(user__in=[scene.outsider, scene.other_manager, scene.chair]).exists()


def test_the_published_award_rule_is_the_one_every_channel_reads(scene):
    assert set(visibility.published_awards()) == {scene.published}
    scene.declined.refresh_from_db()
    assert scene.declined.status == AwardStatus.DECLINED
    assert not visibility.is_published(scene.declined)
