"""Filling in, submitting and reviewing returns through the services: each section's rules and
bad input (nothing changes when refused), optimistic concurrency, submission checks, review,
and the payment the approval releases through the awards stage."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from awards import services as award_services
from awards.models import Instalment, InstalmentStatus
from awards.selectors import instalment_returns, manager_to_do
from governance import fy
from governance.models import AuditEvent, Notification
from governance.money import NEGATIVE, TOO_LARGE
from reporting.models import MilestoneProgress, MonitoringReturn, ReturnSpend, ReturnStatus
from reporting.monitoring import services
from reporting.monitoring.selectors import instalments_waiting_on, period_profile, return_figures
from tests.awards.conftest import issue
from tests.factories.applications import BenefitMeasureFactory
from tests.reporting.conftest import complete, make_monitoring_world, submitted, version

pytestmark = pytest.mark.django_db


def _errors(exc) -> dict:
    return exc.value.message_dict


def _spend(mw, ret, amounts, explanation="", user=None):
    return services.return_spend_save(actor=user or mw.member, monitoring_return=ret, version=version(ret, "spend"),
                                      amounts=amounts, explanation=explanation)


# Sections ----------------------------------------------------------------------------------------


def test_saving_a_section_bumps_its_version_and_marks_it_done(mw):
    ret = mw.last_ended()
    profile = period_profile(ret)
    ret = _spend(mw, ret, {"staff": profile})
    assert ret.section_versions == {"spend": 1}
    assert ret.sections_completed == ["spend"]
    assert list(ret.spend.values_list("financial_year", "category", "amount")) == [(ret.financial_year, "staff", profile)]
    ret = _spend(mw, ret, {"staff": profile - 1, "other": Decimal("1.00")})
    assert ret.section_versions == {"spend": 2}
    assert ret.spend.count() == 2


def test_a_save_from_an_old_version_is_refused_and_changes_nothing(mw):
    ret = mw.last_ended()
    profile = period_profile(ret)
    _spend(mw, ret, {"staff": profile})
    with pytest.raises(ValidationError) as exc:
        services.return_spend_save(actor=mw.signatory, monitoring_return=ret, version=0,
                                   amounts={"staff": Decimal("1.00")}, explanation="x")
    assert exc.value.messages == [services.SECTION_CHANGED]
    assert list(ret.spend.values_list("amount", flat=True)) == [profile]


@pytest.mark.parametrize(("amount", "message"), [
    (Decimal("-1.00"), NEGATIVE),
    (Decimal("1000000000.00"), TOO_LARGE),
    (Decimal("200000.01"), services.SPEND_ABOVE_AWARD % {"award": "£200,000.00"}),  # more than the whole award
])
def test_spend_that_is_negative_or_absurd_is_refused(mw, amount, message):
    ret = mw.last_ended()
    with pytest.raises(ValidationError) as exc:
        _spend(mw, ret, {"staff": amount}, explanation="Because")
    assert _errors(exc) == {"staff": [message]}
    assert not ret.spend.exists()
    assert version(ret, "spend") == 0


def test_spend_adding_up_to_more_than_the_award_is_refused(mw):
    ret = mw.last_ended()
    with pytest.raises(ValidationError) as exc:
        _spend(mw, ret, {"staff": Decimal("150000"), "equipment": Decimal("60000")}, explanation="Because")
    assert "more than the whole award" in _errors(exc)["__all__"][0]
    assert not ret.spend.exists()


@pytest.mark.parametrize("factor", [Decimal("1.11"), Decimal("0.89")])
def test_a_variance_over_ten_percent_needs_an_explanation(mw, factor):
    ret = mw.last_ended()
    profile = period_profile(ret)
    with pytest.raises(ValidationError) as exc:
        _spend(mw, ret, {"staff": (profile * factor).quantize(Decimal("0.01"))})
    [message] = _errors(exc)["explanation"]
    assert "explain the variance of more than 10%" in message
    assert f"{'over' if factor > 1 else 'under'} the profile" in message
    assert not ret.spend.exists()
    ret = _spend(mw, ret, {"staff": (profile * factor).quantize(Decimal("0.01"))}, explanation="Agency staff.")
    assert ret.spend_variance_explanation == "Agency staff."


def test_a_variance_of_ten_percent_or_less_needs_none(mw):
    ret = mw.last_ended()
    profile = period_profile(ret)
    ret = _spend(mw, ret, {"staff": (profile * Decimal("1.10")).quantize(Decimal("0.01"))})
    assert ret.spend_variance_explanation == ""


def test_the_period_profile_is_the_years_profile_shared_over_its_quarters(mw):
    ret = mw.last_ended()
    award = mw.award
    year_amount = award.profile.get(financial_year=ret.financial_year).amount
    quarters = [q for y, q, _, _ in fy.quarters_between(award.start_date, award.end_date) if y == ret.financial_year]
    assert period_profile(ret) == (year_amount / len(quarters)).quantize(Decimal("0.01"))
    figures = return_figures(ret)
    assert {line.category: line.profile for line in figures.spend if line.profile} == {
        "staff": (period_profile(ret) * Decimal("0.75")).quantize(Decimal("0.01")),
        "evaluation": period_profile(ret) - (period_profile(ret) * Decimal("0.75")).quantize(Decimal("0.01")),
    }


def test_savings_must_be_realised_by_an_organisation_on_the_pathway(mw):
    ret = mw.last_ended()
    with pytest.raises(ValidationError) as exc:
        services.return_savings_save(actor=mw.member, monitoring_return=ret, version=0, lines=[
            services.SavingLine("cashable", mw.other_org, "secondary", Decimal("100.00")),
        ])
    assert _errors(exc) == {"line-0-realised_by": [services.SAVING_ORGANISATION_NOT_ON_PATHWAY]}
    assert not ret.savings.exists()


@pytest.mark.parametrize(("amount", "message"), [(Decimal("-5.00"), NEGATIVE), (Decimal("5000000000"), TOO_LARGE)])
def test_savings_that_are_negative_or_absurd_are_refused(mw, amount, message):
    ret = mw.last_ended()
    with pytest.raises(ValidationError) as exc:
        services.return_savings_save(actor=mw.member, monitoring_return=ret, version=0, lines=[
            services.SavingLine("cashable", mw.lead, "secondary", Decimal("10.00")),
            services.SavingLine("non_cashable", mw.icb, "community", amount),
        ])
    assert _errors(exc) == {"line-1-amount": [message]}
    assert not ret.savings.exists()


def test_no_savings_is_an_answer(mw):
    ret = services.return_savings_save(actor=mw.member, monitoring_return=mw.last_ended(), version=0, lines=[])
    assert "savings" in ret.sections_completed


def test_actuals_only_for_the_awards_own_measures(mw):
    ret = mw.last_ended()
    other = BenefitMeasureFactory()  # a measure of another bid (so of another award)
    with pytest.raises(ValidationError) as exc:
        services.return_benefits_save(actor=mw.member, monitoring_return=ret, version=0, actuals={
            mw.measures[0].pk: (Decimal("10"), ""), mw.measures[1].pk: (Decimal("30"), ""), other.pk: (Decimal("5"), ""),
            999999: (Decimal("1"), ""),  # a measure that does not exist
        })
    assert _errors(exc) == {f"measure-{other.pk}": [services.MEASURE_NOT_IN_AWARD],
                            "measure-999999": [services.MEASURE_NOT_IN_AWARD]}
    assert not ret.measure_actuals.exists()


def test_every_measure_needs_a_value(mw):
    ret = mw.last_ended()
    with pytest.raises(ValidationError) as exc:
        services.return_benefits_save(actor=mw.member, monitoring_return=ret, version=0,
                                      actuals={mw.measures[0].pk: (Decimal("10"), "")})
    assert _errors(exc) == {f"measure-{mw.measures[1].pk}": ["Enter the actual value for Emergency admissions"]}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("patients", -1, services.COUNT_NEGATIVE),
    ("patients", 70_000_000, services.COUNT_TOO_LARGE % {"limit": "60,000,000"}),
    ("sites", None, services.COUNT_MISSING % {"what": "sites"}),
])
def test_adoption_counts_are_checked(mw, field, value, message):
    ret = mw.last_ended()
    values = {"organisations": 1, "sites": 2, "patients": 30, field: value}
    with pytest.raises(ValidationError) as exc:
        services.return_adoption_save(actor=mw.member, monitoring_return=ret, version=0, **values)
    key = {"patients": "patients_reached", "sites": "sites_adopting"}[field]
    assert _errors(exc) == {key: [message]}
    ret.refresh_from_db()
    assert ret.patients_reached is None


def test_a_slipped_milestone_needs_its_new_date_and_others_are_refused(mw):
    ret = mw.last_ended()
    with pytest.raises(ValidationError) as exc:
        services.return_milestones_save(actor=mw.member, monitoring_return=ret, version=0, updates=[
            services.MilestoneUpdate(mw.milestones[0].pk, MilestoneProgress.SLIPPED),
            services.MilestoneUpdate(mw.milestones[1].pk, MilestoneProgress.ON_TRACK),
        ])
    assert _errors(exc) == {f"milestone-{mw.milestones[0].pk}-revised_date": [services.SLIPPED_DATE_MISSING]}
    new_date = timezone.localdate() + dt.timedelta(days=60)
    ret = services.return_milestones_save(actor=mw.member, monitoring_return=ret, version=0, updates=[
        services.MilestoneUpdate(mw.milestones[0].pk, MilestoneProgress.SLIPPED, new_date, "Late"),
        services.MilestoneUpdate(mw.milestones[1].pk, MilestoneProgress.ON_TRACK),
    ])
    assert list(ret.milestone_updates.values_list("status", "revised_date")) == [
        (MilestoneProgress.SLIPPED, new_date), (MilestoneProgress.ON_TRACK, None)]


def test_the_sustainability_questions_are_only_for_the_final_return(mw):
    ret = mw.last_ended()
    with pytest.raises(ValidationError) as exc:
        services.return_sustainability_save(actor=mw.member, monitoring_return=ret, version=0, will_be_sustained=True,
                                            funded_by="ICB")
    assert exc.value.messages == [services.NOT_FINAL]
    final = mw.returns()[-1]
    with pytest.raises(ValidationError) as exc:
        services.return_sustainability_save(actor=mw.member, monitoring_return=final, version=0, will_be_sustained=True)
    assert _errors(exc) == {"sustained_funding_by": [services.SUSTAINED_FUNDER_MISSING]}
    with pytest.raises(ValidationError) as exc:
        services.return_narrative_save(actor=mw.member, monitoring_return=final, version=0, narrative="Fine")
    assert _errors(exc) == {"lessons_learned": [services.LESSONS_MISSING]}


def test_only_the_grantee_fills_in_a_return(mw):
    ret = mw.last_ended()
    for outsider in (mw.manager, mw.outsider, mw.commissioner, mw.auditor):
        with pytest.raises(ValidationError) as exc:
            services.return_risks_save(actor=outsider, monitoring_return=ret, version=0, risks="None")
        assert exc.value.messages == [services.NOT_GRANTEE % {"organisation": mw.lead.name}]
    ret.refresh_from_db()
    assert ret.risks_update == ""


# Submitting -----------------------------------------------------------------------------------------


def test_a_complete_return_is_submitted_audited_and_the_manager_told(mw):
    ret = submitted(mw)
    assert ret.submitted_by == mw.member
    event = AuditEvent.objects.get(action="return.submitted", target_id=str(ret.pk))
    assert event.actor == mw.member
    assert event.before == {"status": "open"}
    assert event.after["status"] == "submitted"
    note = Notification.objects.get(user=mw.manager, subject__startswith="Monitoring return to review")
    assert note.link == ret.get_absolute_url()


def test_a_return_for_a_period_not_ended_cannot_be_submitted(mw):
    ret = mw.future()
    complete(mw, ret)
    with pytest.raises(ValidationError) as exc:
        services.return_submit(actor=mw.member, monitoring_return=ret)
    assert exc.value.messages == [services.PERIOD_NOT_ENDED % {"from": (ret.period_end + dt.timedelta(days=1)).strftime("%-d %B %Y")}]
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.UPCOMING


def test_an_incomplete_return_cannot_be_submitted(mw):
    ret = mw.last_ended()
    services.return_risks_save(actor=mw.member, monitoring_return=ret, version=0, risks="None")
    with pytest.raises(ValidationError) as exc:
        services.return_submit(actor=mw.member, monitoring_return=ret)
    [message] = exc.value.messages
    assert message.startswith("Complete every section before submitting: spend against the profile, savings realised")
    assert "risks and issues" not in message
    assert "RAG status" in message  # an initialism keeps its capitals inside the sentence


def test_a_variance_left_unexplained_after_the_profile_changed_stops_submission(mw):
    ret = complete(mw, mw.last_ended())
    ReturnSpend.objects.filter(monitoring_return=ret).update(amount=Decimal("1.00"))  # as if the profile moved on
    with pytest.raises(ValidationError) as exc:
        services.return_submit(actor=mw.member, monitoring_return=ret)
    assert "explain the variance" in exc.value.messages[0]


# Reviewing and paying ---------------------------------------------------------------------------------


def test_approval_releases_the_instalment_waiting_on_the_return(mw):
    ret = submitted(mw)
    instalment = ret.instalment
    assert instalment.status == InstalmentStatus.SCHEDULED
    outcome = services.return_approve(actor=mw.manager, monitoring_return=ret, comments="Thanks")
    instalment.refresh_from_db()
    assert instalment.status == InstalmentStatus.RELEASED
    assert outcome.released == (instalment,)
    assert outcome.payment_note == ""
    ret.refresh_from_db()
    assert (ret.status, ret.reviewed_by, ret.review_comments) == (ReturnStatus.APPROVED, mw.manager, "Thanks")
    assert [e.action for e in AuditEvent.objects.filter(target_id__in=[str(ret.pk), str(instalment.pk)],
                                                         action__in=["return.approved", "instalment.released"]).order_by("pk")] \
        == ["return.approved", "instalment.released"]
    note = Notification.objects.get(user=mw.signatory, subject__startswith="Monitoring return approved")
    assert instalment.label in note.body
    # Then the manager marks it paid through the awards stage.
    award_services.instalment_mark_paid(actor=mw.manager, instalment=instalment, reference="AP-TEST-1")
    instalment.refresh_from_db()
    assert instalment.status == InstalmentStatus.PAID


def test_six_monthly_returns_release_the_instalments_of_the_quarters_they_cover(db):
    mw = make_monitoring_world(quarters_back=4, return_frequency_months=6)
    first = mw.returns()[0]
    assert first.period_end >= first.period_start + dt.timedelta(days=170)  # six months, not three
    instalments = list(mw.award.instalments.order_by("financial_year", "quarter"))
    waits = instalment_returns(instalments)
    # Every instalment after the first waits on the return covering the quarter before it.
    assert all(waits.get(i.pk) is not None for i in instalments if i.requires_return)
    covered = [i for i in instalments if waits.get(i.pk) == first]
    assert len(covered) == 2  # the quarter inside the return's period and the quarter after it
    assert [i.pk for i in instalments_waiting_on(first)] == [i.pk for i in covered]
    award_services.award_suspend(actor=mw.manager, award=mw.award, reason="Paused")
    services.return_open(return_id=first.pk)
    ret = submitted(mw, MonitoringReturn.objects.get(pk=first.pk))
    outcome = services.return_approve(actor=mw.manager, monitoring_return=ret)
    assert outcome.released == ()  # held while the award is suspended
    award_services.award_resume(actor=mw.manager, award=mw.award)
    assert manager_to_do(mw.manager).instalments_to_release == 3  # the first (no return needed) and the two covered
    released = services.return_payment_release(actor=mw.manager, monitoring_return=ret)
    assert [i.pk for i in released] == [i.pk for i in covered]
    assert all(Instalment.objects.get(pk=i.pk).status == InstalmentStatus.RELEASED for i in covered)
    assert manager_to_do(mw.manager).instalments_to_release == 1
    # Later instalments still wait on their own returns.
    later = [i for i in instalments if i.requires_return and i not in covered]
    assert later
    with pytest.raises(ValidationError):
        award_services.instalment_release(actor=mw.manager, instalment=later[0])


def test_an_award_is_issued_only_with_a_return_frequency_of_a_quarter_six_months_or_a_year(db):
    world = make_monitoring_world().world
    with pytest.raises(ValidationError) as exc:
        issue(world, decision=world.new_decision(), return_frequency_months=5)
    assert _errors(exc)["return_frequency_months"] == [award_services.RETURN_FREQUENCY_NOT_ALLOWED]
    assert issue(world, decision=world.new_decision(), return_frequency_months=12).return_frequency_months == 12


def test_when_awards_refuses_the_release_the_approval_stands_with_the_reason(mw):
    ret = submitted(mw)
    award_services.award_suspend(actor=mw.manager, award=mw.award, reason="Data sharing agreement lapsed")
    outcome = services.return_approve(actor=mw.manager, monitoring_return=ret)
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.APPROVED
    assert outcome.released == ()
    assert ret.payment_note == award_services.AWARD_NOT_ACTIVE % {"status": "suspended"}
    assert ret.instalment.status == InstalmentStatus.SCHEDULED
    assert AuditEvent.objects.filter(action="return.payment_held", target_id=str(ret.pk)).exists()
    # Once the award resumes, the manager releases the payment from the return.
    with pytest.raises(ValidationError) as exc:
        services.return_payment_release(actor=mw.manager, monitoring_return=ret)
    assert exc.value.messages == [ret.payment_note]
    award_services.award_resume(actor=mw.manager, award=mw.award)
    [released] = services.return_payment_release(actor=mw.manager, monitoring_return=ret)
    assert released.status == InstalmentStatus.RELEASED
    ret.refresh_from_db()
    assert ret.payment_note == ""


def test_a_sent_back_return_needs_comments_then_can_be_changed_and_resubmitted(mw):
    ret = submitted(mw)
    with pytest.raises(ValidationError) as exc:
        services.return_send_back(actor=mw.manager, monitoring_return=ret, comments="  ")
    assert _errors(exc) == {"comments": [services.COMMENTS_MISSING]}
    services.return_send_back(actor=mw.manager, monitoring_return=ret, comments="Explain the savings.")
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.RETURNED
    assert Notification.objects.filter(user=mw.member, subject__startswith="Monitoring return sent back",
                                       body__contains="Explain the savings.").exists()
    assert AuditEvent.objects.filter(action="return.sent_back", target_id=str(ret.pk)).exists()
    services.return_risks_save(actor=mw.member, monitoring_return=ret, version=version(ret, "risks"), risks="Updated")
    services.return_submit(actor=mw.member, monitoring_return=ret)
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED


def test_an_approved_return_cannot_be_edited_or_reviewed_again(mw):
    ret = submitted(mw)
    services.return_approve(actor=mw.manager, monitoring_return=ret)
    with pytest.raises(ValidationError) as exc:
        services.return_risks_save(actor=mw.member, monitoring_return=ret, version=version(ret, "risks"), risks="Changed")
    assert exc.value.messages == [services.RETURN_APPROVED_LOCKED]
    with pytest.raises(ValidationError) as exc:
        services.return_send_back(actor=mw.manager, monitoring_return=ret, comments="Again")
    assert exc.value.messages == [services.NOT_SUBMITTED % {"status": "approved"}]
    ret.refresh_from_db()
    assert ret.risks_update == "None new."


def test_a_submitted_return_cannot_be_edited(mw):
    ret = submitted(mw)
    with pytest.raises(ValidationError) as exc:
        services.return_risks_save(actor=mw.member, monitoring_return=ret, version=version(ret, "risks"), risks="Changed")
    assert exc.value.messages == [services.RETURN_SUBMITTED_LOCKED]


def test_only_a_manager_of_the_awards_call_reviews(mw):
    ret = submitted(mw)
    for person in (mw.other_manager, mw.auditor, mw.member):
        with pytest.raises(ValidationError) as exc:
            services.return_approve(actor=person, monitoring_return=ret)
        assert exc.value.messages == [services.NOT_REVIEWER]
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED
