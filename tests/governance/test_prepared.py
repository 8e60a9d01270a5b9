"""Queries built once per process (``governance.prepared``): the same rows as the queryset, with
each call's values, one statement a call, and refusals for what it cannot stand in for."""

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from governance.models import Membership, Organisation, User
from governance.prepared import PreparedQuery
from tests.factories.governance import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _memberships_with_organisation(user_pk):
    return Membership.objects.select_related("organisation", "user").filter(user_id=user_pk).order_by("pk")


def test_rows_and_linked_rows_are_the_querysets_own():
    first, second = UserFactory(), UserFactory()
    for user in (first, second, first):
        MembershipFactory(user=user, organisation=OrganisationFactory())
    prepared = PreparedQuery(_memberships_with_organisation)

    for user in (first, second, first):
        expected = list(_memberships_with_organisation(user.pk))
        with CaptureQueriesContext(connection) as queries:
            found = prepared.list(user.pk)
            names = [(m.organisation.name, m.user.email) for m in found]  # linked rows came with them
        assert found == expected
        assert names == [(m.organisation.name, m.user.email) for m in expected]
        assert [vars(m)["role"] for m in found] == [m.role for m in expected]
        assert len(queries) == 1
    assert prepared.first(UserFactory().pk) is None


def test_the_queryset_is_built_once_and_each_call_has_its_own_values():
    builds = []
    organisations = [OrganisationFactory() for _ in range(3)]

    def by_key(pk):
        builds.append(pk)
        return Organisation.objects.filter(pk=pk).values_list("pk", "name")

    prepared = PreparedQuery(by_key)
    for organisation in organisations * 2:
        assert prepared.get(organisation.pk) == (organisation.pk, organisation.name)
    assert len(builds) == 1
    assert builds[0] < 0  # built with a stand-in, never with a real key


def test_annotations_and_two_arguments():
    user = UserFactory()
    organisation = OrganisationFactory()
    MembershipFactory(user=user, organisation=organisation)
    prepared = PreparedQuery(
        lambda user_pk, organisation_pk: User.objects.filter(pk=user_pk)
        .annotate(in_it=Count("memberships", filter=models_q(organisation_pk)))
        .values_list("in_it", flat=True),
        arguments=2,
    )
    assert prepared.get(user.pk, organisation.pk) == 1
    assert prepared.get(user.pk, OrganisationFactory().pk) == 0


def models_q(organisation_pk):
    from django.db.models import Q

    return Q(memberships__organisation_id=organisation_pk)


def test_get_says_when_there_is_no_row():
    prepared = PreparedQuery(lambda pk: Organisation.objects.filter(pk=pk))
    with pytest.raises(Organisation.DoesNotExist):
        prepared.get(OrganisationFactory().pk + 1000)


def test_refuses_values_it_cannot_stand_in_for():
    prepared = PreparedQuery(lambda pk: Organisation.objects.filter(pk=pk))
    with pytest.raises(TypeError):
        prepared.list("1")
    with pytest.raises(TypeError):
        prepared.list(1, 2)
    ignores_its_argument = PreparedQuery(lambda pk: Organisation.objects.all())
    with pytest.raises(ValueError, match="must reach its SQL"):
        ignores_its_argument.list(1)


@pytest.mark.django_db(transaction=True)
def test_a_lock_needs_a_transaction_as_the_queryset_does():
    organisation = OrganisationFactory()
    prepared = PreparedQuery(lambda pk: Organisation.objects.select_for_update().filter(pk=pk))
    with transaction.atomic():
        assert prepared.get(organisation.pk) == organisation
    # Outside a transaction: refused where the database locks rows (PostgreSQL), as Django refuses.
    try:
        Organisation.objects.select_for_update().get(pk=organisation.pk)
    except TransactionManagementError:
        with pytest.raises(TransactionManagementError):
            prepared.get(organisation.pk)
    else:
        assert not connection.features.has_select_for_update
        assert prepared.get(organisation.pk) == organisation
