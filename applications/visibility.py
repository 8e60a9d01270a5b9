"""Who may see a bid, with all its sections, attachments and endorsement: the one rule every
channel of bids reads (pages, the call's bid list and its CSV, dashboards, the assessment
stage's bid view).

- Members of its lead organisation see and, while it is a draft, edit it.
- Members of the commissioning organisation named on it see it once their endorsement has been
  asked for (pending, endorsed or declined), and not before.
- Fund managers of the call's host network and of the fund's host network see it and act on it;
  fund managers of a network that only holds a pot the bid competes for see it read-only
  (``applications.rules``: ``view_bid`` but not ``manage_bid``).
- Auditors of the fund see it and change nothing; they belong to no organisation bidding in
  the fund (``governance.services.fund_auditor_add``).
- Assessors see only the bids assigned to them on which they are not conflicted, through the
  assessment stage (``applications.extensions.register_bid_reader``); never their scores'
  neighbours' drafts (``assessment.visibility``).
- The bid team (``BidCollaborator``, accepted invitations: colleagues and partner contacts with a
  role of read, comment or edit) see it; editors change the sections they are responsible for
  (``services._require_section_writer``).
- Site admins see every bid. The public sees no bid: only the awards the register publishes
  (``awards.visibility.published_awards``).
Anyone else gets a 404, not a 403, so a bid's existence is not disclosed.

Section comments (``BidSectionComment``) are the bid team's own: the lead organisation's members
and the accepted team see them (``comments_visible_to``); nobody else, in no channel. Assessors,
chairs, fund managers, auditors and commissioners never see them: the bid pages, the call's CSV,
the bid PDF (``applications.documents.render_bid_pdf``) and the panel packs read bids through
``bid_content``, which carries no comments, and the comment list is shown only where
``comments_visible_to`` answers.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from governance.models import FundRole, FundRoleKind, Membership, MembershipRole, User
from governance.prepared import PreparedQuery

from .extensions import read_by_later_stage
from .models import Bid, BidCollaborator, BidSectionComment, EndorsementStatus, InvitationState

# Endorsement states in which the commissioner has been asked, so may see the bid.
ENDORSEMENT_ASKED = (EndorsementStatus.PENDING, EndorsementStatus.ENDORSED, EndorsementStatus.DECLINED)


def member_organisations(user: User):
    """The ids of the organisations the person belongs to, as a subquery."""
    return Membership.objects.filter(user=user).values("organisation_id")


def _managed_networks(user: User):
    return Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER).values("organisation_id")


def team_bid_ids(user: User):
    """The ids of the bids the person joined as a member of the bid team, as a subquery."""
    return BidCollaborator.objects.filter(user=user, state=InvitationState.ACCEPTED).values("bid_id")


def team_membership(user: User, bid: Bid) -> BidCollaborator | None:
    """The person's accepted place on the bid's team, if any."""
    if not user.is_authenticated:
        return None
    return BidCollaborator.objects.filter(bid=bid, user=user, state=InvitationState.ACCEPTED).first()


def comments_visible_to(user: User, bid: Bid) -> QuerySet[BidSectionComment]:
    """The bid's section comments for its team (lead organisation members and the accepted
    team); nothing for anyone else: assessors, chairs, fund managers, auditors, commissioners."""
    none = BidSectionComment.objects.none()
    if not user.is_authenticated or not user.is_active:
        return none
    on_team = (Membership.objects.filter(user=user, organisation_id=bid.lead_organisation_id).exists()
               or team_membership(user, bid) is not None)
    if not on_team:
        return none
    return BidSectionComment.objects.filter(bid=bid).select_related("author")


def bids_base() -> QuerySet[Bid]:
    return Bid.objects.select_related(
        "call", "call__fund", "call__host_network", "lead_organisation", "commissioner", "pot"
    )


# A bid page's first query: its SQL (six joins) is built once per process.
_BID_BY_KEY: PreparedQuery[Bid] = PreparedQuery(lambda pk: bids_base().filter(pk=pk).order_by()[:1])


def bids_visible_to(user: User) -> QuerySet[Bid]:
    """Every bid ``user`` may open (read-only or to edit); nothing else."""
    if not user.is_authenticated or not user.is_active:
        return Bid.objects.none()
    if user.is_superuser:
        return bids_base()
    members = member_organisations(user)
    managed = _managed_networks(user)
    audited = FundRole.objects.filter(user=user, role=FundRoleKind.AUDITOR).values("fund_id")
    return bids_base().filter(
        Q(lead_organisation__in=members)
        | Q(commissioner__in=members, endorsement_status__in=ENDORSEMENT_ASKED)
        | Q(call__host_network__in=managed)
        | Q(call__fund__host_network__in=managed)
        | Q(pot__network__in=managed)
        | Q(call__fund__in=audited)
        | Q(pk__in=team_bid_ids(user))
    )


def bid_memberships(user: User, bid: Bid) -> set[int]:
    """Which of the bid's lead and commissioning organisations the person belongs to: read once
    per bid object (one request), for this rule's commonest case and for every permission the
    page checks (``applications.rules``)."""
    cache = getattr(bid, "_memberships", None)
    if cache is None or cache[0] != user.pk:
        ids = {pk for pk in (bid.lead_organisation_id, bid.commissioner_id) if pk is not None}
        cache = (user.pk, set(Membership.objects.filter(user=user, organisation_id__in=ids).order_by()
                                .values_list("organisation_id", flat=True)))
        bid._memberships = cache
    return cache[1]


def _lead_member_sees(user: User, bid: Bid) -> bool:
    """The rule's first clause (``lead_organisation__in=member_organisations(user)``) asked of one
    bid already read: a member of the lead organisation sees it. True only where
    ``bids_visible_to`` says so too (``tests/applications/test_visibility_fast_path.py`` asks both,
    for every role); anything else is asked of the rule itself."""
    return user.is_authenticated and user.is_active and bid.lead_organisation_id in bid_memberships(user, bid)


def sees_bid(user: User, bid: Bid) -> bool:
    """Is ``bid`` one of ``bids_visible_to(user)``? Asked of the queryset itself, so the rule is
    written once. A bid found by ``bid_visible_to`` already carries the answer for the person
    who asked, so a page's permission checks do not ask the database again."""
    if bid is None or not user.is_authenticated or not user.is_active:
        return False
    if getattr(bid, "_found_visible_by", None) == user.pk:
        return True
    return bids_visible_to(user).filter(pk=bid.pk).exists()


def bid_visible_to(user: User, pk: int) -> Bid | None:
    """One bid if ``user`` may see it, else None: a bid of ``bids_visible_to(user)``, or one a
    later stage lets them read (``applications.extensions.register_bid_reader``: assigned
    assessors), which the lists leave out.

    The bid is read by its key alone, and its writers (members of the lead organisation: every
    page of the deadline rush) are let in by the memberships the page's permission checks read
    anyway; for anyone else the rule's queryset is asked (``sees_bid``). Building the rule's
    query cost about as much CPU as the rest of a small page."""
    if not user.is_authenticated or not user.is_active:
        return None
    bid = _BID_BY_KEY.first(pk) if type(pk) is int else bids_base().filter(pk=pk).first()
    if bid is None:
        return None
    if _lead_member_sees(user, bid) or sees_bid(user, bid):
        bid._found_visible_by = user.pk  # for sees_bid, for the rest of this request
        return bid
    return bid if read_by_later_stage(user, bid) else None
