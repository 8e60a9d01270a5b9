"""The append-only audit trail: one function writes every event.

Services call ``audit_record`` inside the same transaction as the change they record, so
a change and its audit event are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from . import fy
from .models import AuditEvent, Fund, User

SYSTEM_ACTOR_LABEL = "Fund Portal (scheduled task)"

# The catalogue of what each recorded action means, in plain words: the trail page, its filters
# and its CSV read these. An action missing here is shown as its words ("thing.verb" → "Thing verb").
ACTION_LABELS = {
    "organisation.created": "Organisation added",
    "user.created": "Account created",
    "user.signed_out_everywhere": "Signed out on every device",
    "membership.added": "Membership added",
    "fund.created": "Fund created",
    "fund.changed": "Fund changed",
    "fund.updated": "Fund details changed",
    "fund.auditor_added": "Auditor added to the fund",
    "fund.auditor_removed": "Auditor removed from the fund",
    "pot.created": "Pot created",
    "pot.changed": "Pot changed",
    "pot.budget_set": "Pot budget set",
    "pot.budget_changed": "Pot budget changed",
    "panel.created": "Panel created",
    "panel.changed": "Panel changed",
    "panel.member_added": "Panel member added",
    "panel.member_changed": "Panel member changed",
    "panel.member_removed": "Panel member removed",
    "panel.affiliation_added": "Panel member's affiliation added",
    "panel.affiliation_removed": "Panel member's affiliation removed",
    "call.created": "Call created",
    "call.copied": "Call copied from another",
    "call.changed": "Call changed",
    "call.updated": "Call details changed",
    "call.published": "Call published",
    "call.unpublished": "Call unpublished",
    "call.opened": "Call opened for bids",
    "call.closing_extended": "Call's closing time extended",
    "call.closed": "Call closed",
    "call.assessment_started": "Assessment started",
    "call.decided": "Call decided",
    "call.closed_out": "Call closed out",
    "criterion.added": "Criterion added",
    "criterion.changed": "Criterion changed",
    "criterion.removed": "Criterion removed",
    "criteria.weights_set": "Criteria weights set",
    "bid.created": "Bid started",
    "bid.section_saved": "Bid section saved",
    "bid.partner_added": "Partner added to a bid",
    "bid.partner_changed": "Bid partner changed",
    "bid.partner_removed": "Partner removed from a bid",
    "bid.attachment_added": "Attachment added to a bid",
    "bid.attachment_removed": "Attachment removed from a bid",
    "bid.attachment_scanned": "Bid attachment checked for viruses",
    "bid.attachment_quarantined": "Virus found in a bid attachment",
    "bid.endorsement_requested": "Commissioner endorsement requested",
    "bid.endorsed": "Bid endorsed by the commissioner",
    "bid.endorsement_declined": "Commissioner declined to endorse a bid",
    "bid.submitted": "Bid submitted",
    "bid.withdrawn": "Bid withdrawn",
    "bid.marked_ineligible": "Bid marked ineligible",
    "bid.assessment_started": "Bid sent for assessment",
    "bid.funded": "Bid funded",
    "bid.not_funded": "Bid not funded",
    "assignment.created": "Assessor assigned to a bid",
    "assignment.withdrawn": "Assessor's assignment withdrawn",
    "assignments.automatic": "Assessors assigned automatically",
    "conflict.declared": "Conflict of interest declared",
    "conflict.none_declared": "No conflict of interest declared",
    "score_sheet.submitted": "Score sheet submitted",
    "score_sheet.reopened": "Score sheet reopened",
    "moderation.recorded": "Moderated score recorded",
    "moderation.changed": "Moderated score changed",
    "decision.recorded": "Panel decision recorded",
    "decision.changed": "Panel decision changed",
    "decisions.released": "Decisions released",
    "award.issued": "Award offered",
    "award.accepted": "Offer accepted",
    "award.declined": "Offer declined",
    "award.lapsed": "Offer lapsed",
    "award.activated": "Award started",
    "award.suspended": "Award suspended",
    "award.resumed": "Award resumed",
    "award.withdrawn": "Award withdrawn",
    "award.closed": "Award closed",
    "award.varied": "Award varied",
    "award.return_frequency_changed": "How often returns are due changed",
    "offer_letter.requested": "Offer letter requested",
    "offer_letter.ready": "Offer letter made",
    "offer_letter.failed": "Offer letter could not be made",
    "condition_template.created": "Standard condition added",
    "condition.evidence_submitted": "Evidence submitted for a condition",
    "condition.evidence_scanned": "Condition evidence checked for viruses",
    "condition.evidence_quarantined": "Virus found in condition evidence",
    "condition.met": "Condition signed off as met",
    "condition.waived": "Condition waived",
    "condition.returned": "Condition evidence sent back",
    "condition.schedule_changed": "Condition's due date or payment held back changed",
    "instalment.released": "Instalment released for payment",
    "instalment.paid": "Payment recorded",
    "variation.requested": "Variation requested",
    "variation.approved": "Variation approved",
    "variation.rejected": "Variation rejected",
    "returns.scheduled": "Monitoring returns scheduled",
    "return.opened": "Monitoring return started",
    "return.submitted": "Monitoring return submitted",
    "return.approved": "Monitoring return approved",
    "return.sent_back": "Monitoring return sent back",
    "return.payment_held": "Payment held after a return's approval",
    "impact_report.requested": "Impact report requested",
    "impact_report.rebuild_requested": "Impact report rebuild requested",
    "impact_report.schedule_changed": "Impact report schedule changed",
    "impact_report.scheduled_build": "Scheduled impact report build",
    "report_version.built": "Report version built",
    "report_version.build_failed": "Report version could not be built",
    "report_version.build_resumed": "Report version build resumed",
    "report_version.retried": "Report version build retried",
    "report_version.published": "Report version published",
    "report_version.unpublished": "Report version unpublished",
}

# Plain names of the fields a before/after records (others are turned into words).
FIELD_LABELS = {
    "status": "Status", "status_reason": "Reason", "amount": "Amount", "start_date": "Start date",
    "end_date": "End date", "offer_deadline": "Offer deadline", "pot": "Pot", "reference": "Reference",
    "return_frequency_months": "Months between returns", "profile": "Profile", "conditions": "Conditions",
    "accepted_by": "Accepted by (user id)", "accepted_at": "Accepted at", "letter_version": "Offer letter version",
    "released": "Released to the pot", "evidence_name": "Evidence file", "evidence_content_type": "Evidence type",
    "evidence_size": "Evidence size (bytes)", "evidence_scan_status": "Virus check", "sha256": "File fingerprint (SHA-256)",
    "review_note": "Fund manager's note", "due_date": "Due date", "holds_back": "Holds back", "paid_on": "Date paid",
    "paid_amount": "Amount paid", "payment_reference": "Payment reference", "payment_note": "Why the amount differs",
    "description": "Description", "title": "Title", "closes_at": "Closes", "opens_at": "Opens",
    "kind": "Kind", "reasons": "Reasons", "proposed_profile": "Proposed profile", "proposed_end_date": "Proposed end date",
    "proposed_scope": "Proposed scope", "decision_note": "Decision note", "outcome": "Outcome",
    "amount_approved": "Amount approved", "public_reason": "Public reason", "internal_note": "Internal note",
    "weight": "Weight", "name": "Name", "signature": "Virus found",
}


def to_json(value: Any) -> Any:
    """Make a value safe for a JSON field: money as text so pence are never rounded."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return str(value)


def snapshot(instance: models.Model, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named fields of an instance as JSON, for an event's before and after."""
    result = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            result[name] = getattr(instance, field.attname)
        else:
            result[name] = to_json(getattr(instance, name))
    return result


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    message: str = "",
    fund: Fund | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event. ``actor=None`` means the portal itself (a scheduled task).

    The fund is taken from the target's ``audit_fund`` when not given, so the fund's audit
    trail page finds every event about anything in the fund; the call, bid and award the target
    belongs to are found from its relations (``audit_links``), so filtering by an award's
    reference finds its conditions', instalments' and returns' events too.
    """
    if fund is None:
        fund = getattr(target, "audit_fund", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        **audit_links(target),
        actor=actor,
        actor_label=(f"{actor.full_name} <{actor.email}>" if actor else SYSTEM_ACTOR_LABEL)[:200],
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:300],
        fund=fund,
        message=message,
        before=to_json(before) if before is not None else None,
        after=to_json(after) if after is not None else None,
    )


# What an event belongs to ------------------------------------------------------------------------

# The kinds of object an event is filed under, by model label (strings: governance imports no
# later stage), and the relations followed from a target to reach them.
LINKED_KINDS = {"governance.call": "call", "applications.bid": "bid", "awards.award": "award"}
LINK_HOPS = ("award", "bid", "call", "assignment", "sheet", "monitoring_return", "instalment", "condition",
             "variation", "report", "panel", "criterion", "decision")


def _linked_objects(target) -> dict[str, models.Model]:
    found: dict[str, models.Model] = {}
    frontier, seen = [target], set()
    for _ in range(5):
        following = []
        for obj in frontier:
            if obj is None or not isinstance(obj, models.Model):
                continue
            key = (obj._meta.label_lower, obj.pk)
            if key in seen:
                continue
            seen.add(key)
            kind = LINKED_KINDS.get(obj._meta.label_lower)
            if kind and kind not in found:
                found[kind] = obj
            for name in LINK_HOPS:
                try:
                    field = obj._meta.get_field(name)
                except FieldDoesNotExist:
                    continue
                if field.concrete and (field.many_to_one or field.one_to_one):
                    following.append(getattr(obj, name))
        frontier = following
        if not frontier:
            break
    return found


def audit_links(target) -> dict[str, str | None]:
    """``call_ref``, ``bid_ref`` and ``award_ref`` of what ``target`` belongs to (None where none)."""
    found = _linked_objects(target)
    return {
        "call_ref": getattr(found.get("call"), "slug", None),
        "bid_ref": getattr(found.get("bid"), "reference", None),
        "award_ref": getattr(found.get("award"), "reference", None),
    }


# Reading events in plain words -------------------------------------------------------------------


def action_label(action: str) -> str:
    """The plain words for an action code (``condition.evidence_submitted`` → "Evidence submitted for a condition")."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def object_kind_label(target_type: str) -> str:
    """The plain name of a kind of object (``assessment.conflictdeclaration`` → "Conflict declaration")."""
    try:
        name = str(apps.get_model(target_type)._meta.verbose_name)
    except (LookupError, ValueError):
        name = target_type.split(".")[-1].replace("_", " ")
    return name[:1].upper() + name[1:]


def field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_YEAR_KEY = re.compile(r"^20\d\d$")


def readable_value(value: Any) -> str:
    """A recorded value as a person reads it: dates as "4 December 2026", lists joined, a
    profile's years as "2026/27: 1000.00", nothing as "(none)"."""
    if value is None or value == "" or value == [] or value == {}:
        return "(none)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            try:
                return dt.date.fromisoformat(value).strftime("%-d %B %Y")
            except ValueError:
                return value
        if _ISO_DATETIME.match(value):
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
            if moment.tzinfo is not None:
                from django.utils import timezone

                moment = timezone.localtime(moment)
            return moment.strftime("%-d %B %Y, %H:%M")
        return value
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            label = fy.label(int(key)) if _YEAR_KEY.match(str(key)) else field_label(str(key))
            parts.append(f"{label}: {readable_value(item)}")
        return "; ".join(parts)
    if isinstance(value, list | tuple):
        return "; ".join(readable_value(item) for item in value)
    return str(value)


def change_list(before: dict | None, after: dict | None) -> list[dict[str, Any]]:
    """An event's before and after as rows a person reads: field label, old value → new value.

    Fields with the same value before and after are left out; a field only after (or only
    before) shows "(none)" on the other side."""
    before = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    rows = []
    for name in list(dict.fromkeys([*before, *after])):
        old, new = before.get(name), after.get(name)
        if name in before and name in after and old == new:
            continue
        rows.append({"field": field_label(name), "before": readable_value(old) if name in before else "(none)",
                     "after": readable_value(new) if name in after else "(none)",
                     "only_after": name not in before, "only_before": name not in after})
    return rows


def change_text(before: dict | None, after: dict | None) -> str:
    """The change list as one line (for the CSV)."""
    return "; ".join(f"{row['field']}: {row['before']} → {row['after']}" for row in change_list(before, after))
