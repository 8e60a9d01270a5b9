"""The offer letter: an HTML template rendered to PDF with WeasyPrint.

The letter fetches nothing from the network or the disk: only ``data:`` URLs are allowed, so
text typed by users (which the template escapes anyway) can never pull in a resource.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher

from governance.siteurl import site_url

from .models import OfferLetter
from .selectors import award_money_by_year, instalments_of


def offer_letter_context(letter: OfferLetter) -> dict:
    award = letter.award
    bid = award.bid
    return {
        "letter": letter,
        "award": award,
        "bid": bid,
        "fund": award.pot.fund,
        "partners": list(bid.partners.select_related("organisation")),
        "years": award_money_by_year(award),
        "conditions": list(award.conditions.all()),
        "instalments": [i for i in instalments_of(award) if i.status != "cancelled"],
        "portal_name": settings.PORTAL_NAME,
        "site_url": site_url(),
    }


def render_offer_letter(letter: OfferLetter) -> bytes:
    html = render_to_string("awards/pdf/offer_letter.html", offer_letter_context(letter))
    # Tagged (PDF/UA-1 as far as WeasyPrint goes), as the impact reports are, so a screen
    # reader follows the letter's headings, tables and reading order.
    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(
        pdf_variant="pdf/ua-1", pdf_tags=True,
    )
