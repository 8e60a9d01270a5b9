"""A bid as a PDF: its sections as the viewer reads them on the bid's page, tagged for
accessibility (PDF/UA-1 as far as WeasyPrint goes).

``render_bid_pdf(bid, viewer)`` is the one function every channel uses (the panel packs; a
bidder's "PDF of my bid"). It refuses a viewer who may not see the bid, and it carries what
``applications.selectors.bid_content`` carries, so never the bid team's section comments
(``applications.visibility``). The HTML fetches nothing: only ``data:`` URLs are allowed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Bid
from .selectors import bid_content
from .visibility import bid_visible_to

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


def render_bid_pdf(bid: Bid, viewer) -> bytes:
    """The bid's PDF for ``viewer`` (who must be able to see it: else ``PermissionDenied``)."""
    from weasyprint import HTML, URLFetcher

    if bid_visible_to(viewer, bid.pk) is None:
        raise PermissionDenied("This person may not see the bid")
    html = render_to_string("applications/pdf/bid_for_panel.html", {
        "bid": bid, **bid_content(bid), "portal_name": settings.PORTAL_NAME,
        "generated_at": timezone.localtime(), "viewer_name": viewer.full_name or viewer.email,
    })
    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(**PDF_OPTIONS)
