from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from governance.audit import SYSTEM_ACTOR_LABEL, audit_record, snapshot
from governance.models import AuditEvent
from tests.factories.governance import FundFactory, PotBudgetFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_event_records_who_what_when_before_and_after():
    actor = UserFactory(full_name="Sam Trelawney", email="sam@example.com")
    budget = PotBudgetFactory(amount=Decimal("100.10"))
    before = snapshot(budget, ["amount"])
    budget.amount = Decimal("250.00")
    budget.save()
    event = audit_record(actor=actor, action="pot.budget_changed", target=budget, before=before,
                         after=snapshot(budget, ["amount"]), message="Budget changed")
    event.refresh_from_db()
    assert event.actor_label == "Sam Trelawney <sam@example.com>"
    assert event.action == "pot.budget_changed"
    assert event.target_type == "governance.potbudget"
    assert event.target_id == str(budget.pk)
    assert event.before == {"amount": "100.10"}  # money kept as text: no float rounding
    assert event.after == {"amount": "250.00"}
    # The fund comes from the target, so the fund's trail finds the event.
    assert event.fund == budget.pot.fund


def test_an_event_without_an_actor_is_the_portal_itself():
    fund = FundFactory()
    event = audit_record(actor=None, action="call.closed", target=fund)
    assert event.actor is None
    assert event.actor_label == SYSTEM_ACTOR_LABEL


def test_events_cannot_be_changed_or_deleted_through_the_orm():
    event = audit_record(actor=None, action="fund.created", target=FundFactory())
    event.message = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(message="rewritten")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.message == ""


@pytest.mark.requires_postgres
def test_postgresql_refuses_to_update_or_delete_events_even_in_raw_sql():
    event = audit_record(actor=None, action="fund.created", target=FundFactory())
    for statement in ("UPDATE governance_auditevent SET message = 'x' WHERE id = %s",
                      "DELETE FROM governance_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, message="").exists()
