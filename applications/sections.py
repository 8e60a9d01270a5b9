"""A bid's section pages, on the one section-page machine (``governance.sections``): each names
its section, builds its forms from the bid (the first, ``main``, carries the section's version)
and saves them through the section's one service. Attachments have their own page (uploads)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from governance.sections import SectionPage

from . import checks, forms, selectors, services
from .models import Bid, BidSection, BidSectionState

SIMPLE = "applications/sections/simple.html"
ROWS = "applications/sections/rows.html"


class BidSectionPage(SectionPage):
    """One section of a draft bid. A page being posted brings the version it was opened at; a
    page opened afresh shows the section's saved state (or the state it starts in)."""

    section: BidSection
    template = SIMPLE
    more_rows = False  # rows of a formset, with a "Save and add more rows" button
    stale_code = "conflict"

    def __init__(self, bid: Bid, data=None, *, more: bool = False, now: dt.datetime | None = None) -> None:
        super().__init__(bid)
        self.bid, self.more, self.now = bid, more, now
        self.state: BidSectionState | None = None if data is not None else selectors.section_state(bid, self.section)
        self._forms = self.build(data)

    @property
    def title(self) -> str:
        return self.section.label

    @property
    def forms(self) -> dict[str, Any]:
        return self._forms

    @property
    def version(self) -> int:
        return self.main.cleaned_data["version"]

    def build(self, data) -> dict[str, Any]:  # pragma: no cover - every section builds its forms
        raise NotImplementedError

    # Helpers for building
    def opened_version(self) -> dict:
        """The version the writer opened (a form that is being posted brings its own)."""
        return {"version": self.state.version} if self.state is not None else {}

    def main_form(self, data, form_class, fields: tuple[str, ...], **kwargs):
        initial = {name: getattr(self.bid, name) for name in fields} | self.opened_version()
        return form_class(data, initial=initial, **kwargs)

    def version_form(self, data):
        return forms.SectionForm(data, initial=self.opened_version())

    def formset(self, form_class, prefix: str, data, initial: list[dict], *, blank_rows: int = 3, **kwargs):
        """Rows already saved, and blank ones to add more: ``blank_rows`` when there are none yet."""
        extra = (4 if self.more else 0) + (blank_rows if not initial else 1)
        formset_class = forms.row_formset(form_class, extra=extra)
        return formset_class(data, initial=initial, prefix=prefix, **kwargs)


class SummaryPage(BidSectionPage):
    section = BidSection.SUMMARY

    def build(self, data):
        return {"main": self.main_form(data, forms.SummaryForm, services.SUMMARY_FIELDS, call=self.bid.call)}

    def save(self, actor):
        data = self.main.cleaned_data
        services.bid_summary_save(actor=actor, bid=self.bid, now=self.now, version=data["version"], title=data["title"],
                                  summary=data["summary"], problem=data["problem"], start_date=data["start_date"],
                                  end_date=data["end_date"])


class InnovationPage(BidSectionPage):
    section = BidSection.INNOVATION

    def build(self, data):
        return {"main": self.main_form(data, forms.InnovationForm, services.INNOVATION_FIELDS, call=self.bid.call)}

    def save(self, actor):
        data = self.main.cleaned_data
        services.bid_innovation_save(actor=actor, bid=self.bid, now=self.now, version=data["version"],
                                     innovation_type=data["innovation_type"],
                                     innovation_description=data["innovation_description"],
                                     evidence_base=data["evidence_base"], nice_evidence=data["nice_evidence"])


class PathwayPage(BidSectionPage):
    section = BidSection.PATHWAY

    def build(self, data):
        return {"main": self.main_form(data, forms.PathwayForm, services.PATHWAY_FIELDS)}

    def save(self, actor):
        data = self.main.cleaned_data
        services.bid_pathway_save(actor=actor, bid=self.bid, now=self.now, version=data["version"],
                                  care_settings=data["care_settings"], pathway_description=data["pathway_description"])


class PartnersPage(BidSectionPage):
    section = BidSection.PARTNERS
    template = "applications/sections/partners.html"

    def build(self, data):
        return {"main": forms.CommissionerForm(
            data, initial={**self.opened_version(), "commissioner": self.bid.commissioner_id},
            commissioners=selectors.commissioning_organisations(), required=self.bid.call.endorsement_required)}

    def save(self, actor):
        services.bid_partners_save(actor=actor, bid=self.bid, now=self.now, version=self.version,
                                   commissioner=self.main.cleaned_data["commissioner"])

    def context(self):
        return {"partners": list(self.bid.partners.select_related("organisation")),
                "search_form": forms.PartnerSearchForm()}


class CostsPage(BidSectionPage):
    section = BidSection.COSTS
    template = "applications/sections/costs.html"
    more_rows = True

    def build(self, data):
        bid = self.bid
        costs = [{"financial_year": c.financial_year, "category": c.category, "nature": c.nature,
                  "description": c.description, "amount": c.amount} for c in bid.costs.all()]
        match = [{"organisation": m.organisation_id, "financial_year": m.financial_year, "description": m.description,
                  "amount": m.amount} for m in bid.match_funding.all()]
        return {
            "main": self.version_form(data),
            "costs": self.formset(forms.CostForm, "costs", data, costs, years=bid.years),
            "match": self.formset(forms.MatchFundingForm, "match", data, match, blank_rows=1, years=bid.years,
                                  organisations=selectors.bid_organisations(bid)),
        }

    def save(self, actor):
        services.bid_costs_save(actor=actor, bid=self.bid, now=self.now, version=self.version,
                                costs=self.forms["costs"].rows(), match_funding=self.forms["match"].rows())

    def context(self):
        return selectors.cost_content(self.bid)


class SavingsPage(BidSectionPage):
    section = BidSection.SAVINGS
    template = "applications/sections/savings.html"
    more_rows = True

    def build(self, data):
        rows = [{"financial_year": s.financial_year, "kind": s.kind, "realised_by": s.realised_by_id,
                 "care_setting": s.care_setting, "amount": s.amount, "assumptions": s.assumptions, "evidence": s.evidence}
                for s in self.bid.projected_savings.all()]
        return {
            "main": self.version_form(data),
            "savings": self.formset(forms.SavingForm, "savings", data, rows, years=self.bid.years,
                                    organisations=selectors.bid_organisations(self.bid)),
        }

    def save(self, actor):
        services.bid_savings_save(actor=actor, bid=self.bid, now=self.now, version=self.version,
                                  savings=self.forms["savings"].rows())

    def context(self):
        requested, savings = selectors.bid_total_requested(self.bid), selectors.bid_total_savings(self.bid)
        return {"total_requested": requested, "total_savings": savings, "cost_pence": int(requested * 100),
                "projected_return": checks.projected_return(savings, requested)}


class BenefitsPage(BidSectionPage):
    section = BidSection.BENEFITS
    template = ROWS
    more_rows = True

    def build(self, data):
        rows = [{"name": m.name, "unit": m.unit, "baseline": m.baseline, "target": m.target, "target_date": m.target_date,
                 "higher_is_better": "yes" if m.higher_is_better else "no"} for m in self.bid.benefit_measures.all()]
        return {"main": self.version_form(data), "measures": self.formset(forms.MeasureForm, "measures", data, rows)}

    def save(self, actor):
        services.bid_benefits_save(actor=actor, bid=self.bid, now=self.now, version=self.version,
                                   measures=self.forms["measures"].rows())


class DeliveryPage(BidSectionPage):
    section = BidSection.DELIVERY
    template = ROWS
    more_rows = True

    def build(self, data):
        rows = [{"title": m.title, "due_date": m.due_date, "description": m.description} for m in self.bid.milestones.all()]
        return {"main": self.main_form(data, forms.DeliveryForm, services.DELIVERY_FIELDS),
                "milestones": self.formset(forms.MilestoneForm, "milestones", data, rows)}

    def save(self, actor):
        data = self.main.cleaned_data
        services.bid_delivery_save(actor=actor, bid=self.bid, now=self.now, version=data["version"],
                                   delivery_plan=data["delivery_plan"], sustainability_plan=data["sustainability_plan"],
                                   milestones=self.forms["milestones"].rows())


class RisksPage(BidSectionPage):
    section = BidSection.RISKS
    template = ROWS
    more_rows = True

    def build(self, data):
        rows = [{"description": r.description, "likelihood": r.likelihood, "impact": r.impact, "mitigation": r.mitigation}
                for r in self.bid.risks.all()]
        return {"main": self.version_form(data), "risks": self.formset(forms.RiskForm, "risks", data, rows)}

    def save(self, actor):
        services.bid_risks_save(actor=actor, bid=self.bid, now=self.now, version=self.version,
                                risks=self.forms["risks"].rows())


SECTION_PAGES: dict[str, type[BidSectionPage]] = {
    page.section.value: page
    for page in (SummaryPage, InnovationPage, PathwayPage, PartnersPage, CostsPage, SavingsPage, BenefitsPage,
                 DeliveryPage, RisksPage)
}
