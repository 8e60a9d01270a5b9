"""A bid as a tagged PDF (WeasyPrint, PDF/UA-1 as far as it goes, as the impact reports and offer
letters are): the bid's read-only page content, no more, so every reader's copy shows what their
page shows. Nothing is fetched from the network or the disk: only ``data:`` URLs are allowed."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML, URLFetcher

from .models import Bid
from .selectors import bid_content

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


def render_bid_html(bid: Bid) -> str:
    return render_to_string("applications/pdf/bid.html", {
        "bid": bid, **bid_content(bid), "editable": False, "pdf": True,
        "portal_name": settings.PORTAL_NAME, "generated_at": timezone.now(),
    })


def render_bid_pdf(bid: Bid) -> bytes:
    html = render_bid_html(bid)
    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(**PDF_OPTIONS)
