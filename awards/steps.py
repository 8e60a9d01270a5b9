"""What a fund manager can do next with an award, and what each action waits for.

Pages show an action only when it can work; otherwise they say what it waits for. The answers
come from the same checks the services make (``services.release_blocker``), so a page never
offers what the server would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from .models import Award, AwardStatus, ConditionStatus, InstalmentStatus
from .selectors import open_prestart_conditions, open_variation
from .services import release_blocker


@dataclass(frozen=True)
class NextStep:
    text: str
    link: str = ""
    link_text: str = ""


def annotate_instalments(instalments) -> None:
    """Set ``blocker`` (why it cannot be released, or "") on each scheduled instalment."""
    for instalment in instalments:
        instalment.blocker = ""
        if instalment.status == InstalmentStatus.SCHEDULED:
            problem = release_blocker(instalment)
            instalment.blocker = " ".join(problem.messages) if problem is not None else ""


def manager_next_step(award: Award, instalments, conditions) -> NextStep | None:
    """The one thing the fund manager should do next (``instalments`` annotated as above)."""
    url = award.get_absolute_url()
    if award.status == AwardStatus.OFFERED:
        return NextStep(f"Wait for {award.recipient.name} to accept or decline the offer by "
                        f"{award.offer_deadline:%-d %B %Y}.")
    if award.status == AwardStatus.ACCEPTED:
        waiting = list(open_prestart_conditions(award))
        if waiting:
            return NextStep(
                f"Start the award once the {len(waiting)} condition{'s' if len(waiting) != 1 else ''} holding back the "
                "first payment {} met or waived. No payment can be released until the award is started.".format(
                    "is" if len(waiting) == 1 else "are"),
                url + "#conditions", "Go to the conditions")
        return NextStep("The offer has been accepted: start the award so that its payments can be released.",
                        reverse("awards:award_status", args=[award.reference, "activate"]), "Start the award")
    if award.status == AwardStatus.SUSPENDED:
        return NextStep("Payments are stopped while the award is suspended: resume it when the issue is resolved.",
                        reverse("awards:award_status", args=[award.reference, "resume"]), "Resume the award")
    if award.status != AwardStatus.ACTIVE:
        return None
    for instalment in instalments:
        if instalment.status == InstalmentStatus.RELEASED:
            return NextStep(f"The {instalment.label} instalment is released: record its payment when the finance "
                            "system has paid it.", reverse("awards:instalment_pay", args=[award.reference, instalment.pk]),
                            f"Record the payment of {instalment.label}")
    for instalment in instalments:
        if instalment.status == InstalmentStatus.SCHEDULED and not instalment.blocker:
            return NextStep(f"The {instalment.label} instalment can be released for payment.",
                            url + "#schedule", f"Release {instalment.label}")
    evidence = [c for c in conditions if c.status == ConditionStatus.EVIDENCE_SUBMITTED]
    if evidence:
        return NextStep(f"Review the evidence sent for \u201c{evidence[0].title}\u201d.",
                        reverse("awards:condition_review", args=[award.reference, evidence[0].pk]), "Review the evidence")
    variation = open_variation(award)
    if variation is not None:
        return NextStep("A variation is waiting for your decision.",
                        reverse("awards:variation_detail", args=[award.reference, variation.pk]), "Decide the variation")
    upcoming = next((i for i in instalments if i.status == InstalmentStatus.SCHEDULED), None)
    if upcoming is not None:
        return NextStep(f"Nothing to do now. The {upcoming.label} instalment waits: {upcoming.blocker}")
    return NextStep("Every instalment is paid: close the award once its final monitoring return is approved.",
                    reverse("awards:award_status", args=[award.reference, "close"]), "Close the award")
