"""Helpers for the assessor pool tests: people in a network's pool with current declarations,
invited to a call."""

from __future__ import annotations

from assessment import services
from assessment.models import AssessorProfile
from governance.models import Expertise
from tests.factories.governance import UserFactory


def expertise(name: str) -> Expertise:
    return Expertise.objects.get_or_create(name=name)[0]


def pooled(world, full_name: str, *, declare: bool = True, organisation=None, skills=(), interests=()):
    """A new person in the world's network pool, with (by default) a current declaration."""
    person = UserFactory(full_name=full_name)
    services.pool_member_add(actor=world.manager, network=world.network, email=person.email,
                             organisation=organisation, expertise=[expertise(s) for s in skills])
    if declare:
        services.assessor_declaration_make(actor=person, interests="None", interest_organisations=list(interests),
                                           accept_terms=True)
    person.refresh_from_db()
    return person


def profile_of(person) -> AssessorProfile:
    return AssessorProfile.objects.get(user=person)


def invite(world, *people, days: int = 7):
    return services.assessors_invite(actor=world.manager, call=world.call, invitees=list(people), days=days)
