"""The notification catalogue: every kind of message the portal sends, declared once.

Each entry has a key, who it goes to, and default wording with placeholders such as
``{bid_reference}``, ``{call_title}``, ``{deadline}`` and ``{link}``. A fund's managers may
reword any entry for their fund (``NotificationWording``): the wording is checked here (an
unknown placeholder, or a missing required one, is an error next to the field).

``send(key, ...)`` renders the fund's wording (or the default) and records the notification
through ``governance.services.notify`` with an idempotency key made of (kind, object,
recipient, occasion), unique in the database: however often a change or a beat task runs, a
message goes once. The person's choice (each email straight away, or a daily digest) is
applied by ``notify``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from .models import Fund, Notification, NotificationWording, User

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
UNKNOWN_PLACEHOLDER = "{{{name}}} is not a placeholder this message can use"
MISSING_PLACEHOLDER = "Include {{{name}}}: people need it to know what the message is about"
UNBALANCED_BRACES = "A curly bracket is not closed: placeholders are written like {call_title}"
EMPTY_WORDING = "Enter the wording"

# Example values for the preview (and the tests).
SAMPLE_VALUES = {
    "bid_reference": "NEN-2026-0042",
    "bid_title": "Remote monitoring for heart failure",
    "call_title": "Digital diagnostics challenge 2026",
    "organisation": "Northern Care NHS Foundation Trust",
    "deadline": "Friday 18 December 2026 at 12pm",
    "days": "3 days",
    "link": "https://fundportal.example/calls/digital-diagnostics/",
    "award_reference": "AW-2026-0017",
    "award_title": "Remote monitoring for heart failure",
    "amount": "£25,000.00",
    "remittance": "£25,000.00 was paid to Northern Care NHS Foundation Trust on 4 December 2026 for the 2026/27 Q3 "
                  "instalment. Payment reference: AP-2026-004512.",
    "period": "2026/27 quarter 3",
    "condition_title": "Data protection impact assessment",
    "question": "May a primary care network lead a bid?",
    "answer": "Yes, if a trust is a partner.",
    "summary": "Funding to adopt proven diagnostics in community settings.",
    "bid_count": "12",
    "fund_name": "Northern innovation fund",
}


@dataclass(frozen=True)
class Message:
    key: str
    label: str
    audience: str
    subject: str
    body: str
    placeholders: tuple[str, ...]
    required: tuple[str, ...] = ()
    fund_wording: bool = True  # False: no fund to reword it (messages to the public about alerts)
    occasions: tuple[str, ...] = field(default=())


CATALOGUE: dict[str, Message] = {m.key: m for m in [
    Message(
        "bid_draft_closing", "Bid still a draft as the call closes", "The bid's writers (members of the lead organisation)",
        "Your bid closes in {days}: {bid_reference}",
        "Your bid {bid_reference} \u201c{bid_title}\u201d to {call_title} is still a draft. The call closes on "
        "{deadline}: submit it before then.\n\n{link}",
        ("bid_reference", "bid_title", "call_title", "deadline", "days", "link"), ("bid_reference", "deadline"),
        occasions=("14", "3", "1"),
    ),
    Message(
        "bid_submitted", "Bid submitted", "The call's fund managers",
        "Bid received: {bid_reference}",
        "{organisation} submitted bid {bid_reference} \u201c{bid_title}\u201d to {call_title}.\n\n{link}",
        ("bid_reference", "bid_title", "call_title", "organisation", "link"), ("bid_reference",),
    ),
    Message(
        "call_closed", "Call closed", "The call's fund managers",
        "Call closed: {call_title}",
        "{call_title} closed on {deadline} with {bid_count} submitted bids.\n\n{link}",
        ("call_title", "deadline", "bid_count", "link"), ("call_title",),
    ),
    Message(
        "scores_all_in", "All scores in", "The panel's chairs",
        "All scores are in: {call_title}",
        "Every assessor has submitted their scores on {call_title}. You can moderate and rank the bids.\n\n{link}",
        ("call_title", "link"), ("call_title",),
    ),
    Message(
        "award_started", "Award started", "The grantee (authorised signatories and the bid's author)",
        "Your award has started: {award_reference}",
        "Your award {award_reference} \u201c{award_title}\u201d has started. Monitoring returns and payments "
        "follow its schedule.\n\n{link}",
        ("award_reference", "award_title", "link"), ("award_reference",),
    ),
    Message(
        "instalment_released", "Instalment released", "The grantee",
        "Payment released: {award_reference}",
        "The {period} instalment of {amount} on award {award_reference} has been released for payment.\n\n{link}",
        ("award_reference", "award_title", "amount", "period", "link"), ("award_reference", "amount"),
    ),
    Message(
        "instalment_paid", "Instalment paid", "The grantee",
        "Payment made: {award_reference}",
        "The {period} instalment of {amount} on award {award_reference} has been paid.\n\n{remittance}\n\n{link}",
        ("award_reference", "award_title", "amount", "period", "remittance", "link"), ("award_reference", "amount"),
    ),
    Message(
        "condition_met", "Condition met", "The grantee",
        "Condition met: {award_reference}",
        "The condition \u201c{condition_title}\u201d on award {award_reference} has been signed off as met.\n\n{link}",
        ("award_reference", "award_title", "condition_title", "link"), ("award_reference", "condition_title"),
    ),
    Message(
        "return_opened", "Monitoring return open", "The grantee",
        "Monitoring return open: {award_reference}",
        "You can now submit the monitoring return for {award_reference} ({period}). It is due by {deadline}.\n\n{link}",
        ("award_reference", "period", "deadline", "link"), ("award_reference", "deadline"),
    ),
    Message(
        "return_due", "Monitoring return due", "The grantee",
        "Monitoring return due in {days}: {award_reference}",
        "Reminder: the monitoring return for {award_reference} ({period}) is due by {deadline}.\n\n{link}",
        ("award_reference", "period", "deadline", "days", "link"), ("award_reference", "deadline"),
        occasions=("14", "3", "1"),
    ),
    Message(
        "return_overdue", "Monitoring return overdue", "The grantee and the award's fund manager",
        "Monitoring return overdue: {award_reference}",
        "The monitoring return for {award_reference} ({period}) was due by {deadline} and has not been submitted. "
        "Payments waiting on it cannot be released until it is approved.\n\n{link}",
        ("award_reference", "period", "deadline", "link"), ("award_reference",),
    ),
    Message(
        "scores_due", "Scores due", "The assessor",
        "Your scores on {bid_reference} {deadline}",
        "Your scores on bid {bid_reference} \u201c{bid_title}\u201d {deadline}.\n\n{link}",
        ("bid_reference", "bid_title", "deadline", "link"), ("bid_reference",),
    ),
    Message(
        "call_question_asked", "Question asked on a call", "The call's fund managers",
        "A question on {call_title}",
        "A bidder asked a question on {call_title}:\n\n{question}\n\nAnswer it and publish the answer for everyone:\n\n{link}",
        ("call_title", "question", "link"), ("call_title",),
    ),
    Message(
        "call_question_answered", "Question on a call answered", "Everyone with a bid or an alert on the call",
        "A question on {call_title} has been answered",
        "A question on {call_title} has been answered in public.\n\nQuestion: {question}\n\nAnswer: {answer}\n\n{link}",
        ("call_title", "question", "answer", "link"), ("call_title",),
    ),
    Message(
        "call_published", "New call open", "Public subscribers whose alert matches the call",
        "New funding call: {call_title}",
        "A new funding call is open: {call_title}.\n\n{summary}\n\nIt closes on {deadline}.\n\n{link}",
        ("call_title", "summary", "deadline", "fund_name", "link"), ("call_title",),
    ),
    Message(
        "call_alert_confirm", "Confirm a call alert", "Someone who asked for call alerts",
        "Confirm your funding call alerts",
        "Someone (we hope you) asked for emails about new funding calls on the Fund Portal. Confirm by "
        "opening this link within 3 days:\n\n{link}\n\nIf it was not you, ignore this email: nothing will be sent.",
        ("link",), ("link",), fund_wording=False,
    ),
]}

def uk_datetime(moment) -> str:
    """Like '16 January 2027 at 5:00pm (UK time)'."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y} at {local.strftime('%I:%M%p').lstrip('0').lower()} (UK time)"


def uk_date(day) -> str:
    return f"{day.day} {day:%B %Y}"


def days_label(days: int) -> str:
    if days <= 0:
        return "under a day"
    return f"{days} day{'s' if days != 1 else ''}"


EDITABLE = [m for m in CATALOGUE.values() if m.fund_wording]


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER.findall(text or "")


def wording_errors(key: str, *, subject: str, body: str) -> dict[str, list[str]]:
    """Field-by-field errors in a wording of ``key`` (empty: fine)."""
    message = CATALOGUE[key]
    errors: dict[str, list[str]] = {}
    for name, text in (("subject", subject), ("body", body)):
        if not (text or "").strip():
            errors.setdefault(name, []).append(EMPTY_WORDING)
            continue
        if PLACEHOLDER.sub("", text).count("{") or PLACEHOLDER.sub("", text).count("}"):
            errors.setdefault(name, []).append(UNBALANCED_BRACES)
        for used in dict.fromkeys(placeholders_in(text)):
            if used not in message.placeholders:
                errors.setdefault(name, []).append(UNKNOWN_PLACEHOLDER.format(name=used))
    used_anywhere = set(placeholders_in(subject)) | set(placeholders_in(body))
    for name in message.required:
        if name not in used_anywhere:
            errors.setdefault("body", []).append(MISSING_PLACEHOLDER.format(name=name))
    return errors


def fill(text: str, values: dict) -> str:
    """Replace each known placeholder with its value (plain text: the page escapes it)."""
    return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), text)


def wording_for(key: str, fund: Fund | None) -> tuple[str, str]:
    """(subject, body) as the fund words it, else the default."""
    message = CATALOGUE[key]
    if fund is not None and message.fund_wording:
        own = NotificationWording.objects.filter(fund=fund, kind=key).first()
        if own is not None:
            return own.subject, own.body
    return message.subject, message.body


def render(key: str, values: dict, fund: Fund | None = None) -> tuple[str, str]:
    subject, body = wording_for(key, fund)
    return fill(subject, values).replace("\n", " ")[:200], fill(body, values)


def preview(key: str, *, subject: str, body: str) -> tuple[str, str]:
    """The wording filled with the sample values."""
    return fill(subject, SAMPLE_VALUES).replace("\n", " ")[:200], fill(body, SAMPLE_VALUES)


def idempotency_key(key: str, about, recipient: str, occasion: str = "") -> str:
    about_label = about if isinstance(about, str) else f"{about._meta.label_lower}.{about.pk}"
    raw = f"{key}|{about_label}|{recipient}|{occasion}"
    return raw if len(raw) <= 255 else f"{key}|sha256:{hashlib.sha256(raw.encode()).hexdigest()}"


def send(
    key: str, *, about: models.Model | str, values: dict, to: User | None = None, email: str = "",
    fund: Fund | None = None, occasion: str = "", link: str = "", unsubscribe_link: str = "",
) -> Notification | None:
    """Send catalogue message ``key`` about ``about`` to a user (or an address), once per occasion.

    Returns the notification, or None when it was already sent. ``values`` fill the placeholders;
    ``link`` is also offered as ``{link}`` (made absolute for emails).
    """
    from .services import notify
    from .siteurl import absolute_url

    if key not in CATALOGUE:
        raise KeyError(f"No notification {key!r} in the catalogue")
    absolute = absolute_url(link) if link else link
    subject, body = render(key, {**values, "link": absolute}, fund)
    recipient = f"user.{to.pk}" if to is not None else f"email.{email.lower()}"
    return notify(
        user=to, email=email, subject=subject, body=body, link=link,
        kind=key, idempotency_key=idempotency_key(key, about, recipient, occasion), unsubscribe_link=unsubscribe_link,
    )


def send_to_each(key: str, people, **kwargs) -> list[Notification]:
    """``send`` to each person once (a person listed twice is told once)."""
    sent = []
    for person in dict.fromkeys(people):
        notification = send(key, to=person, **kwargs)
        if notification is not None:
            sent.append(notification)
    return sent
