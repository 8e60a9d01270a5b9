"""A bid as a tagged PDF (WeasyPrint, PDF/UA-1 as far as it goes, as the impact reports and offer
letters are): the bid's read-only page content, no more, so every reader's copy shows what their
page shows, and never the bid team's section comments (``applications.visibility``). One renderer
for every channel: a bidder's or panel member's copy of a bid, and each bid in a panel pack.
Nothing is fetched from the network or the disk: only ``data:`` URLs are allowed."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML, URLFetcher

from .models import Bid
from .selectors import bid_content
from .visibility import bid_visible_to

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


def render_bid_html(bid: Bid, viewer=None) -> str:
    return render_to_string("applications/pdf/bid.html", {
        "bid": bid, **bid_content(bid), "editable": False, "pdf": True,
        "portal_name": settings.PORTAL_NAME, "generated_at": timezone.now(),
        "viewer_name": (viewer.full_name or viewer.email) if viewer is not None else "",
    })


def render_bid_pdf(bid: Bid, viewer=None) -> bytes:
    """The bid's PDF. With ``viewer`` (a panel pack's reader), it is refused
    (``PermissionDenied``) unless they may see the bid, and names them as its reader."""
    if viewer is not None and bid_visible_to(viewer, bid.pk) is None:
        raise PermissionDenied("This person may not see the bid")
    html = render_bid_html(bid, viewer)
    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(**PDF_OPTIONS)
