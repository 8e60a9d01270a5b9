"""The figures of an impact report, computed with pandas from the build's source data.

Everything here is pure: ``impact_snapshot(report, sources, cutoff)`` turns DataFrames into a
JSON-ready snapshot (sections of tables, with the charts drawn from them) that is stored with
the version and is the only input of the PDF, the preview, the CSV and the XLSX.

Money arrives as whole pence (int64), so sums are exact and vectorised; the snapshot keeps
money as text in pounds ("1234.56"), never float. Benefit measures arrive in hundredths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from django.utils import timezone

from applications.models import BidStatus, CareSetting, SavingKind
from assessment.models import DecisionOutcome
from awards.models import AwardStatus, LedgerEntryKind, VariationKind, VariationStatus
from governance import fy
from governance.models import CallPurpose, Region

from ..models import RAG, ImpactReport, ReportScope, ReturnStatus
from ..visibility import coverage
from .selectors import Sources

SNAPSHOT_SCHEMA = 2  # 2: public data only, with a record of what the snapshot covers

PURPOSES = dict(CallPurpose.choices)
PURPOSE_SHORT = {CallPurpose.ADOPTION: "adoption", CallPurpose.DIFFUSION: "diffusion", CallPurpose.PUMP_PRIMING: "pump-priming"}
AWARD_STATUSES = dict(AwardStatus.choices)
CARE_SETTINGS = dict(CareSetting.choices)
REGIONS = dict(Region.choices)
OUTCOMES = dict(DecisionOutcome.choices)
# Awards whose profile still stands (or was delivered): the profile that spend is set against.
PROFILE_STATUSES = {AwardStatus.OFFERED, AwardStatus.ACCEPTED, AwardStatus.ACTIVE, AwardStatus.SUSPENDED, AwardStatus.CLOSED}
ELIGIBLE_BID_STATUSES = {BidStatus.IN_ASSESSMENT, BidStatus.FUNDED, BidStatus.NOT_FUNDED}

ROI_METHOD = (
    "Return on investment is (savings realised − money paid by the fund) ÷ money paid by the fund, "
    "over the report's period, undiscounted. Savings are those reported in approved monitoring "
    "returns whose period ended in the report's period; money paid is the fund's payments booked "
    "to the period's financial years. It is shown for all savings and for cashable savings alone."
)
PAYBACK_METHOD = (
    "The payback period is counted in whole quarters, from the first quarter in which the fund "
    "paid money to the quarter in which cumulative cashable savings first equalled cumulative "
    "payments. The projected payback compares the bids' projected cashable savings with the "
    "awards' profiles, year by year, over the awards' whole lives."
)
BENEFIT_METHOD = (
    "Each measure's latest actual is the value in the award's most recent approved return in the "
    "period. Measures are added up across awards only where both their name and their unit agree, "
    "and only over the awards that have reported them; progress is (actual − baseline) ÷ "
    "(target − baseline)."
)
ADOPTION_METHOD = (
    "Organisations, sites and patients are cumulative figures from each award's most recent "
    "approved return in the period, added up by the recipient's network and region."
)


# Values in the snapshot -----------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def money_text(pence: Any) -> str | None:
    """Whole pence to pounds as text: 123456 -> "1234.56"."""
    if _missing(pence):
        return None
    pence = int(pence)
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    return f"{sign}{pence // 100}.{pence % 100:02d}"


def hundredths_text(value: Any) -> str | None:
    return money_text(value)


def measure_text(hundredths: Any) -> str:
    """A measure for sentences: 1200.00 -> "1,200", 42.50 -> "42.5"."""
    if _missing(hundredths):
        return ""
    value = int(hundredths)
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}{whole:,}" + (f".{part:02d}".rstrip("0") if part else "")


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def percent(numerator: Any, denominator: Any) -> float | None:
    if _missing(numerator) or _missing(denominator) or denominator == 0:
        return None
    return round(float(numerator) * 100.0 / float(denominator), 1)


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def _float(value: Any) -> float | None:
    return None if _missing(value) else round(float(value), 1)


CONVERTERS = {
    "text": _text,
    "money": money_text,
    "int": _int,
    "percent": _float,
    "number": hundredths_text,
    "score": _float,
}


def table(
    key: str, title: str, columns: Sequence[tuple[str, str, str]], rows: Iterable[Sequence[Any]],
    total: Sequence[Any] | None = None, note: str = "", keys: int = 1, detail: bool = False,
) -> dict:
    """A table in the snapshot: ``columns`` are (key, label, kind); values are converted by kind
    (money in pence becomes pounds as text; measures in hundredths become decimal text).
    The first ``keys`` columns name a row (a year and a pot, say): the CSV uses them. A ``detail``
    table (a row per award and measure, say) is shortened in the PDF of a big fund; the CSV and
    XLSX always have every row."""
    convert = [CONVERTERS[kind] for _, _, kind in columns]

    def row(values):
        return [fn(value) for fn, value in zip(convert, values, strict=True)]

    return {
        "key": key,
        "title": title,
        "columns": [{"key": k, "label": label, "kind": kind} for k, label, kind in columns],
        "rows": [row(values) for values in rows],
        "total": row(total) if total is not None else None,
        "note": note,
        "keys": keys,
        "detail": detail,
    }


def frame_rows(df: pd.DataFrame, keys: Sequence[str]) -> Iterable[tuple]:
    return df[list(keys)].itertuples(index=False, name=None)


def chart(key: str, title: str, table_key: str, kind: str, x: str, series: Sequence[str], unit: str, **extra) -> dict:
    return {"key": key, "title": title, "table": table_key, "type": kind, "x": x, "series": list(series),
            "unit": unit, **extra}


def section(key: str, title: str, paragraphs: list[str], tables: list[dict], charts: list[dict] | None = None) -> dict:
    return {"key": key, "title": title, "paragraphs": paragraphs, "tables": tables, "charts": charts or []}


def pounds(pence: Any) -> str:
    """Money for sentences: £1,234 (pence only when there are some)."""
    text = money_text(pence or 0) or "0.00"  # never None: zero stands in for a missing amount
    whole, pence_part = text.split(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-')):,}"
    return f"{sign}£{whole}" + (f".{pence_part}" if pence_part != "00" else "")


# The period -------------------------------------------------------------------------------------


def period_label(start: dt.date, end: dt.date) -> str:
    """``2025/26``, ``2025/26 to 2026/27``, ``Q2 2025/26 to Q1 2026/27`` or plain dates."""
    first_year, first_q = fy.quarter_of(start)
    last_year, last_q = fy.quarter_of(end)
    q_start = fy.FinancialYear(first_year).quarter(first_q)[0]
    q_end = fy.FinancialYear(last_year).quarter(last_q)[1]
    if start == q_start and end == q_end:
        if first_q == 1 and last_q == 4:
            if first_year == last_year:
                return fy.label(first_year)
            return f"{fy.label(first_year)} to {fy.label(last_year)}"
        if (first_year, first_q) == (last_year, last_q):
            return f"Q{first_q} {fy.label(first_year)}"
        return f"Q{first_q} {fy.label(first_year)} to Q{last_q} {fy.label(last_year)}"
    return f"{start:%-d %B %Y} to {end:%-d %B %Y}"


def period_granularity(start: dt.date, end: dt.date) -> str:
    return "years" if (start.month, start.day, end.month, end.day) == (4, 1, 3, 31) else "quarters"


def scope_label(report: ImpactReport) -> str:
    if report.scope == ReportScope.CALL and report.call is not None:
        return f"Call: {report.call.title}"
    if report.scope == ReportScope.POT and report.pot is not None:
        return f"Pot: {report.pot.name}"
    if report.scope == ReportScope.NETWORK and report.network is not None:
        return f"Network: {report.network.name}"
    return "The whole fund"


def _local_dates(series: pd.Series) -> pd.Series:
    """Aware datetimes to UK calendar dates (as datetime.date objects)."""
    if series.empty:
        return pd.Series([], dtype=object, index=series.index)
    stamps = pd.to_datetime(series, utc=True).dt.tz_convert(timezone.get_default_timezone_name())
    return stamps.dt.date


def _quarter_keys(dates: pd.Series) -> pd.Series:
    """Dates to sortable NHS quarter keys, year * 10 + quarter (2025 Q3 = 20253), vectorised."""
    if dates.empty:
        return pd.Series([], dtype="int64", index=dates.index)
    stamps = pd.to_datetime(dates)
    month = stamps.dt.month
    year = stamps.dt.year - (month < 4).astype("int64")
    return year * 10 + ((month - 4) % 12) // 3 + 1


# The snapshot -------------------------------------------------------------------------------------


def impact_snapshot(report: ImpactReport, sources: Sources, cutoff: dt.datetime) -> dict:
    """Every figure of the report, as a JSON-ready dict (see the module docstring)."""
    start, end = report.period_start, report.period_end
    years = fy.years_spanning(start, end)
    awards = sources.awards
    approved = sources.returns[
        (sources.returns["status"] == ReturnStatus.APPROVED)
        & (sources.returns["period_end"] >= start) & (sources.returns["period_end"] <= end)
    ]
    latest = approved.sort_values(["award_id", "period_end"]).groupby("award_id", sort=False).tail(1)

    money, money_figures = _money(sources, years)
    economic, economic_figures = _economic(sources, years, approved, start, end, cutoff)
    benefit, headlines = _benefit(sources, approved)
    adoption, adoption_figures = _adoption(awards, latest)
    health = _health(sources, latest, start, end, cutoff)
    process = _process(sources)
    award_lines = _awards(sources, latest, headlines, years)

    headline = [
        {"key": "awards", "label": "Awards", "kind": "int", "value": len(awards)},
        {"key": "awarded", "label": "Awarded", "kind": "money", "value": money_text(awards["amount_p"].sum())},
        {"key": "committed", "label": "Committed in the period", "kind": "money", "value": money_text(money_figures["committed"])},
        {"key": "paid", "label": "Paid in the period", "kind": "money", "value": money_text(money_figures["paid"])},
        {"key": "realised", "label": "Savings realised", "kind": "money", "value": money_text(economic_figures["realised"])},
        {"key": "cashable", "label": "Cashable savings realised", "kind": "money", "value": money_text(economic_figures["cashable"])},
        {"key": "roi", "label": "Return on investment", "kind": "percent", "value": economic_figures["roi"]},
        {"key": "patients", "label": "Patients reached", "kind": "int", "value": adoption_figures["patients"]},
        {"key": "organisations", "label": "Organisations adopting", "kind": "int", "value": adoption_figures["organisations"]},
    ]
    return {
        "schema": SNAPSHOT_SCHEMA,
        "meta": {
            "title": report.title,
            "fund": report.fund.name,
            "fund_slug": report.fund.slug,
            "scope": report.scope,
            "scope_label": scope_label(report),
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "period_label": period_label(start, end),
            "granularity": period_granularity(start, end),
            "years": [fy.label(year) for year in years],
            "data_cutoff": cutoff.isoformat(),
            "coverage": coverage(
                award_ids=awards["award_id"].tolist(), call_ids=sources.calls["call_id"].tolist(),
                withheld_calls=_withheld(sources),
            ),
        },
        "headline": headline,
        "sections": [money, economic, benefit, adoption, health, process, award_lines],
    }


# Money --------------------------------------------------------------------------------------------


def _money(sources: Sources, years: list[int]) -> tuple[dict, dict]:
    ledger = sources.ledger[sources.ledger["financial_year"].isin(years)].copy()
    sign = ledger["kind"].map({LedgerEntryKind.COMMIT: 1, LedgerEntryKind.RELEASE: -1, LedgerEntryKind.PAYMENT: 0})
    ledger["committed_p"] = ledger["amount_p"] * sign
    ledger["paid_p"] = ledger["amount_p"].where(ledger["kind"] == LedgerEntryKind.PAYMENT, 0)
    flows = ledger.groupby(["pot", "financial_year"], as_index=False)[["committed_p", "paid_p"]].sum()
    budgets = sources.budgets[sources.budgets["financial_year"].isin(years)][["pot", "financial_year", "amount_p"]]
    budgets = budgets.rename(columns={"amount_p": "budget_p"})
    own = sources.budget_is_own
    by_pot = budgets.merge(flows, on=["pot", "financial_year"], how="outer") if own else flows.assign(budget_p=pd.NA)  # type: ignore[arg-type]  # a column of NA; the stubs do not list NAType
    by_pot = by_pot.fillna({"committed_p": 0, "paid_p": 0}).sort_values(["financial_year", "pot"])
    by_pot["remaining_p"] = by_pot["budget_p"] - by_pot["committed_p"] if own else pd.NA
    by_pot["year"] = by_pot["financial_year"].map(fy.label)
    by_year = by_pot.groupby("financial_year", as_index=False)[["budget_p", "committed_p", "paid_p"]].sum(min_count=1)
    by_year = pd.DataFrame({"financial_year": years}).merge(by_year, on="financial_year", how="left")
    by_year = by_year.fillna({"committed_p": 0, "paid_p": 0})
    by_year["remaining_p"] = by_year["budget_p"] - by_year["committed_p"] if own else pd.NA
    by_year["year"] = by_year["financial_year"].map(fy.label)
    sums = {k: by_year[f"{k}_p"].sum(min_count=1) for k in ("budget", "committed", "paid", "remaining")}
    totals = {k: (None if _missing(v) else int(v)) for k, v in sums.items()}
    committed, paid, budget = totals["committed"] or 0, totals["paid"] or 0, totals["budget"]

    # Spend against profile: the awards' planned profile and the spend in approved returns.
    live = sources.awards.loc[sources.awards["status"].isin(PROFILE_STATUSES), "award_id"]
    profile = sources.profile[sources.profile["award_id"].isin(live) & sources.profile["financial_year"].isin(years)]
    planned = profile.groupby("financial_year")["amount_p"].sum()
    spend = sources.spend[sources.spend["financial_year"].isin(years)].groupby("financial_year")["amount_p"].sum()
    against = pd.DataFrame({"financial_year": years})
    against["planned_p"] = against["financial_year"].map(planned).fillna(0).astype("int64")
    against["spent_p"] = against["financial_year"].map(spend).fillna(0).astype("int64")
    against["variance_p"] = against["spent_p"] - against["planned_p"]
    against["share"] = [percent(s, p) for s, p in zip(against["spent_p"], against["planned_p"], strict=True)]
    against["year"] = against["financial_year"].map(fy.label)

    money_columns = [("year", "Financial year", "text"), ("budget", "Budget", "money"), ("committed", "Committed", "money"),
                     ("paid", "Paid", "money"), ("remaining", "Remaining", "money")]
    note = "" if own else ("These pots also fund work outside this report's scope, so their budget and what "
                           "remains are shown in the fund's report, not here.")
    tables = [
        table("money_by_year", "Budget, committed, paid and remaining by financial year", money_columns,
              frame_rows(by_year, ["year", "budget_p", "committed_p", "paid_p", "remaining_p"]),
              total=["Total", totals["budget"], committed, paid, totals["remaining"]], note=note),
        table("money_by_pot", "Budget, committed, paid and remaining by pot and year",
              [("year", "Financial year", "text"), ("pot", "Pot", "text"), *money_columns[1:]],
              frame_rows(by_pot, ["year", "pot", "budget_p", "committed_p", "paid_p", "remaining_p"]), note=note, keys=2),
        table("spend_against_profile", "Spend against the awards' profile by financial year",
              [("year", "Financial year", "text"), ("planned", "Profile", "money"), ("spent", "Spent (approved returns)", "money"),
               ("variance", "Difference", "money"), ("share", "Spent as % of profile", "percent")],
              frame_rows(against, ["year", "planned_p", "spent_p", "variance_p", "share"]),
              total=["Total", against["planned_p"].sum(), against["spent_p"].sum(), against["variance_p"].sum(),
                     percent(against["spent_p"].sum(), against["planned_p"].sum())],
              note="Spend is what grantees reported in approved returns; a year in progress is part-reported."),
    ]
    years_text = f"{fy.label(years[0])} to {fy.label(years[-1])}" if len(years) > 1 else fy.label(years[0])
    if own and budget:
        first = (f"Across {years_text} the awards committed {pounds(committed)} of a {pounds(budget)} budget "
                 f"({percent(committed, budget)}%), and the fund paid {pounds(paid)}.")
    else:
        first = f"Across {years_text} the awards committed {pounds(committed)} and the fund paid {pounds(paid)}."
    paragraphs = [first, "Committed is money committed by awards less money released back to the pot."]
    charts = [
        chart("money_by_year", "Budget, committed and paid by financial year", "money_by_year", "bar", "year",
              ["budget", "committed", "paid"] if own else ["committed", "paid"], "money"),
        chart("spend_against_profile", "Spend against profile by financial year", "spend_against_profile", "bar", "year",
              ["planned", "spent"], "money"),
    ]
    figures = {"committed": committed, "paid": paid, "budget": budget}
    return section("money", "Money", paragraphs, tables, charts), figures


# Economic assessment ---------------------------------------------------------------------------------


def _economic(sources: Sources, years: list[int], approved: pd.DataFrame, start: dt.date, end: dt.date,
              cutoff: dt.datetime) -> tuple[dict, dict]:
    savings = sources.savings.merge(approved[["return_id", "period_end"]], on="return_id", how="inner")
    projected = sources.projected
    cash, non = SavingKind.CASHABLE, SavingKind.NON_CASHABLE

    def by_year_kind(df: pd.DataFrame) -> pd.DataFrame:
        pivot = df.pivot_table(index="financial_year", columns="kind", values="amount_p", aggfunc="sum", fill_value=0)
        return pivot.reindex(index=years, columns=[cash, non], fill_value=0)

    proj = by_year_kind(projected[projected["financial_year"].isin(years)])
    real = by_year_kind(savings)
    per_year = pd.DataFrame({
        "year": [fy.label(y) for y in years],
        "proj_cash": proj[cash].to_numpy(), "proj_non": proj[non].to_numpy(),
        "real_cash": real[cash].to_numpy(), "real_non": real[non].to_numpy(),
    })
    per_year["proj_total"] = per_year["proj_cash"] + per_year["proj_non"]
    per_year["real_total"] = per_year["real_cash"] + per_year["real_non"]
    per_year["share"] = [percent(r, p) for r, p in zip(per_year["real_total"], per_year["proj_total"], strict=True)]
    sums = per_year[["proj_cash", "proj_non", "real_cash", "real_non", "proj_total", "real_total"]].sum()

    # By the organisation that realised them and its place on the pathway.
    keys = ["realised_by", "care_setting"]
    real_org = savings.pivot_table(index=keys, columns="kind", values="amount_p", aggfunc="sum", fill_value=0)
    real_org = real_org.reindex(columns=[cash, non], fill_value=0).rename(columns={cash: "real_cash", non: "real_non"})
    proj_org = projected[projected["financial_year"].isin(years)].groupby(keys)["amount_p"].sum().rename("proj_total")
    by_org = real_org.join(proj_org, how="outer").fillna(0).reset_index()
    by_org["real_total"] = by_org["real_cash"] + by_org["real_non"]
    by_org["setting"] = by_org["care_setting"].map(CARE_SETTINGS)
    by_org = by_org.sort_values(["real_total", "proj_total", "realised_by"], ascending=[False, False, True])
    by_setting = by_org.groupby("setting", as_index=False)[["proj_total", "real_cash", "real_non", "real_total"]].sum()
    order = {label: i for i, label in enumerate(CARE_SETTINGS.values())}
    by_setting = by_setting.sort_values("setting", key=lambda s: s.map(order))

    # Return on investment and payback.
    ledger = sources.ledger
    payments = ledger[(ledger["kind"] == LedgerEntryKind.PAYMENT) & ledger["financial_year"].isin(years)].copy()
    paid = int(payments["amount_p"].sum())
    realised, cashable = int(sums["real_total"]), int(sums["real_cash"])
    roi_rows = [
        ("All savings realised", paid, realised, realised - paid, percent(realised - paid, paid)),
        ("Cashable savings only", paid, cashable, cashable - paid, percent(cashable - paid, paid)),
    ]
    last_day = min(end, timezone.localtime(cutoff).date())
    quarters = [(y, q) for y, q, _, _ in fy.quarters_between(start, max(start, last_day))]
    payments["quarter"] = _quarter_keys(_local_dates(payments["created_at"]))
    cash_savings = savings[savings["kind"] == cash].copy()
    cash_savings["quarter"] = _quarter_keys(cash_savings["period_end"])
    flow = pd.DataFrame({"quarter": [y * 10 + q for y, q in quarters]})
    flow["label"] = [f"Q{q} {fy.label(y)}" for y, q in quarters]
    flow["paid_p"] = flow["quarter"].map(payments.groupby("quarter")["amount_p"].sum()).fillna(0).astype("int64")
    flow["saved_p"] = flow["quarter"].map(cash_savings.groupby("quarter")["amount_p"].sum()).fillna(0).astype("int64")
    flow["cum_paid_p"] = flow["paid_p"].cumsum()
    flow["cum_saved_p"] = flow["saved_p"].cumsum()
    flow["covered"] = [percent(s, p) for s, p in zip(flow["cum_saved_p"], flow["cum_paid_p"], strict=True)]
    paying = flow.index[flow["cum_paid_p"] > 0]
    payback_text, payback_months = _payback(flow, paying)
    projected_text = _projected_payback(sources)

    roi = percent(realised - paid, paid)
    paragraphs = [
        f"Grantees reported {pounds(realised)} of savings in approved returns, {pounds(cashable)} of them cashable, "
        f"against {pounds(int(sums['proj_total']))} projected in their bids for the same years.",
        (f"Return on investment: {roi}% on all savings and {percent(cashable - paid, paid)}% on cashable savings alone, "
         f"for {pounds(paid)} paid." if paid else "The fund paid nothing in the period, so there is no return on investment to show."),
        payback_text,
        projected_text,
        ROI_METHOD,
        PAYBACK_METHOD,
    ]
    saving_columns = [("proj_cash", "Projected cashable", "money"), ("proj_non", "Projected non-cashable", "money"),
                      ("real_cash", "Realised cashable", "money"), ("real_non", "Realised non-cashable", "money"),
                      ("real_total", "Realised in total", "money"), ("share", "Realised as % of projected", "percent")]
    tables = [
        table("savings_by_year", "Projected and realised savings by financial year",
              [("year", "Financial year", "text"), *saving_columns],
              frame_rows(per_year, ["year", "proj_cash", "proj_non", "real_cash", "real_non", "real_total", "share"]),
              total=["Total", sums["proj_cash"], sums["proj_non"], sums["real_cash"], sums["real_non"], sums["real_total"],
                     percent(sums["real_total"], sums["proj_total"])]),
        table("savings_by_setting", "Savings by place on the care pathway",
              [("setting", "Care setting", "text"), ("proj_total", "Projected", "money"), ("real_cash", "Realised cashable", "money"),
               ("real_non", "Realised non-cashable", "money"), ("real_total", "Realised in total", "money")],
              frame_rows(by_setting, ["setting", "proj_total", "real_cash", "real_non", "real_total"])),
        table("savings_by_organisation", "Savings by the organisation that realised them",
              [("organisation", "Organisation", "text"), ("setting", "Care setting", "text"), ("proj_total", "Projected", "money"),
               ("real_cash", "Realised cashable", "money"), ("real_non", "Realised non-cashable", "money"),
               ("real_total", "Realised in total", "money")],
              frame_rows(by_org, ["realised_by", "setting", "proj_total", "real_cash", "real_non", "real_total"]), keys=2,
              detail=True),
        table("roi", "Return on investment",
              [("basis", "Savings counted", "text"), ("paid", "Paid by the fund", "money"), ("saved", "Savings realised", "money"),
               ("net", "Net saving", "money"), ("roi", "Return on investment (%)", "percent")], roi_rows, note=ROI_METHOD),
        table("payback_by_quarter", "Payments and cashable savings by quarter",
              [("quarter", "Quarter", "text"), ("paid", "Paid", "money"), ("saved", "Cashable savings", "money"),
               ("cum_paid", "Paid to date", "money"), ("cum_saved", "Cashable savings to date", "money"),
               ("covered", "Savings as % of payments", "percent")],
              frame_rows(flow, ["label", "paid_p", "saved_p", "cum_paid_p", "cum_saved_p", "covered"]), note=PAYBACK_METHOD),
    ]
    charts = [
        chart("savings_by_year", "Projected and realised savings by financial year", "savings_by_year", "stacked_pairs",
              "year", ["proj_cash", "proj_non", "real_cash", "real_non"], "money"),
        chart("savings_by_setting", "Realised savings by care setting", "savings_by_setting", "barh", "setting",
              ["real_cash", "real_non"], "money", stacked=True),
        chart("payback_by_quarter", "Cumulative payments and cashable savings", "payback_by_quarter", "line", "quarter",
              ["cum_paid", "cum_saved"], "money"),
    ]
    figures = {"realised": realised, "cashable": cashable, "paid": paid, "roi": roi, "payback_months": payback_months}
    return section("economic", "Economic assessment", paragraphs, tables, charts), figures


def _payback(flow: pd.DataFrame, paying: pd.Index) -> tuple[str, int | None]:
    if not len(paying):
        return "No payments were made in the period, so there is no payback period to show.", None
    first = paying[0]
    reached = flow.index[(flow.index >= first) & (flow["cum_paid_p"] > 0) & (flow["cum_saved_p"] >= flow["cum_paid_p"])]
    if len(reached):
        months = (reached[0] - first + 1) * 3
        reached_in, first_in = str(flow.at[reached[0], "label"]), str(flow.at[first, "label"])
        return (f"Payback: cumulative cashable savings covered cumulative payments in {reached_in}, "
                f"{months} months from the first payment in {first_in}."), int(months)
    covered = flow["covered"].iloc[-1]
    return (f"Payback: not reached by the end of the period; cashable savings to date cover {covered}% of payments "
            "to date."), None


def _projected_payback(sources: Sources) -> str:
    projected = sources.projected[sources.projected["kind"] == SavingKind.CASHABLE]
    live = sources.awards.loc[sources.awards["status"].isin(PROFILE_STATUSES), ["award_id", "bid_id"]]
    profile = sources.profile[sources.profile["award_id"].isin(live["award_id"])]
    projected = projected[projected["bid_id"].isin(live["bid_id"])]
    if profile.empty:
        return "Projected payback: there are no award profiles to compare with."
    years = sorted(set(profile["financial_year"]) | set(projected["financial_year"]))
    cost = profile.groupby("financial_year")["amount_p"].sum().reindex(years, fill_value=0).cumsum()
    saved = projected.groupby("financial_year")["amount_p"].sum().reindex(years, fill_value=0).cumsum()
    reached = [year for year in years if cost[year] > 0 and saved[year] >= cost[year]]
    if reached:
        index = years.index(reached[0]) + 1
        return (f"Projected payback: the bids' projected cashable savings cover the awards' profiles by "
                f"{fy.label(reached[0])}, year {index} of the awards.")
    return (f"Projected payback: not within the awards' lives; projected cashable savings cover "
            f"{percent(saved.iloc[-1], cost.iloc[-1])}% of the awards' profiles.")


# Patient benefit -----------------------------------------------------------------------------------


def _benefit(sources: Sources, approved: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    measures = sources.measures.merge(sources.awards[["bid_id", "award_id", "reference"]], on="bid_id", how="inner")
    actuals = sources.actuals.merge(approved[["return_id", "period_end"]], on="return_id", how="inner")
    latest = actuals.sort_values(["measure_id", "period_end", "return_id"]).groupby("measure_id", sort=False).tail(1)
    measures = measures.merge(latest[["measure_id", "value_h"]], on="measure_id", how="left")
    measures["progress"] = [
        percent(a - b, t - b) if not _missing(a) else None
        for a, b, t in zip(measures["value_h"], measures["baseline_h"], measures["target_h"], strict=True)
    ]
    measures = measures.sort_values(["reference", "measure_id"])

    measures["key_name"] = measures["name"].str.strip().str.lower()
    measures["key_unit"] = measures["unit"].str.strip().str.lower()
    keys = ["key_name", "key_unit", "higher_is_better"]
    reporting = measures[measures["value_h"].notna()]
    groups = measures.groupby(keys, as_index=False).agg(name=("name", "first"), unit=("unit", "first"),
                                                        awards=("award_id", "nunique"))
    reported = reporting.groupby(keys, as_index=False).agg(
        reporting=("award_id", "nunique"), baseline_r=("baseline_h", "sum"), target_r=("target_h", "sum"),
        actual=("value_h", "sum"))
    all_sums = measures.groupby(keys, as_index=False).agg(baseline_a=("baseline_h", "sum"), target_a=("target_h", "sum"))
    agg = groups.merge(reported, on=keys, how="left").merge(all_sums, on=keys, how="left")
    agg["reporting"] = agg["reporting"].fillna(0).astype("int64")
    has = agg["reporting"] > 0
    agg["baseline"] = agg["baseline_r"].where(has, agg["baseline_a"])
    agg["target"] = agg["target_r"].where(has, agg["target_a"])
    agg["progress"] = [percent(a - b, t - b) if r else None
                       for a, b, t, r in zip(agg["actual"], agg["baseline"], agg["target"], agg["reporting"], strict=True)]
    agg = agg.sort_values(["awards", "name"], ascending=[False, True])

    # The award's headline result: its first measure with a reported value.
    headlines = measures[measures["value_h"].notna()].groupby("award_id", sort=False).head(1)
    headlines = headlines.assign(headline=[
        f"{name}: {measure_text(a)} {unit} against a target of {measure_text(t)} (baseline {measure_text(b)})"
        for name, unit, a, t, b in zip(headlines["name"], headlines["unit"], headlines["value_h"], headlines["target_h"],
                                       headlines["baseline_h"], strict=True)
    ])[["award_id", "headline"]]

    total = len(agg)
    on_track = int((agg["progress"].fillna(-1) >= 100).sum())
    paragraphs = [
        (f"The awards measure {len(measures)} patient benefits, {total} once those with the same name and unit are "
         f"added together; {on_track} of them have reached their target." if len(measures)
         else "No patient-benefit measures are recorded for these awards."),
        BENEFIT_METHOD,
    ]
    tables = [
        table("benefit_totals", "Patient benefit: measures added up where their units agree",
              [("measure", "Measure", "text"), ("unit", "Unit", "text"), ("awards", "Awards", "int"),
               ("reporting", "Awards reporting", "int"), ("baseline", "Baseline", "number"), ("target", "Target", "number"),
               ("actual", "Latest actual", "number"), ("progress", "Progress to target (%)", "percent")],
              frame_rows(agg, ["name", "unit", "awards", "reporting", "baseline", "target", "actual", "progress"]), keys=2),
        table("benefit_by_award", "Patient benefit by award",
              [("award", "Award", "text"), ("measure", "Measure", "text"), ("unit", "Unit", "text"),
               ("baseline", "Baseline", "number"), ("target", "Target", "number"), ("actual", "Latest actual", "number"),
               ("progress", "Progress to target (%)", "percent")],
              frame_rows(measures, ["reference", "name", "unit", "baseline_h", "target_h", "value_h", "progress"]), keys=2,
              detail=True),
    ]
    charts = [chart("benefit_totals", "Progress to target by measure", "benefit_totals", "barh", "measure",
                    ["progress"], "percent")]
    return section("benefit", "Patient benefit", paragraphs, tables, charts), headlines


# Adoption and spread ---------------------------------------------------------------------------------


def _adoption(awards: pd.DataFrame, latest: pd.DataFrame) -> tuple[dict, dict]:
    figures = ["organisations_adopting", "sites_adopting", "patients_reached"]
    reached = awards[["award_id", "network", "region", "purpose", "amount_p"]].merge(
        latest[["award_id", *figures]], on="award_id", how="left")
    reached["reported"] = reached[figures].notna().any(axis=1)
    reached["region"] = reached["region"].map(REGIONS).fillna("Not recorded")
    grouped = reached.groupby(["network", "region"], as_index=False).agg(
        awards=("award_id", "nunique"), reporting=("reported", "sum"), organisations=("organisations_adopting", "sum"),
        sites=("sites_adopting", "sum"), patients=("patients_reached", "sum"),
    ).sort_values(["patients", "network"], ascending=[False, True])
    totals = {k: int(reached[f].fillna(0).sum()) for k, f in zip(("organisations", "sites", "patients"), figures, strict=True)}

    purposes = reached.groupby("purpose", as_index=False).agg(awards=("award_id", "nunique"), amount_p=("amount_p", "sum"))
    purposes = pd.DataFrame({"purpose": list(PURPOSES)}).merge(purposes, on="purpose", how="left").fillna(
        {"awards": 0, "amount_p": 0})
    purposes["label"] = purposes["purpose"].map(PURPOSES)
    all_awards, all_amount = purposes["awards"].sum(), purposes["amount_p"].sum()
    purposes["share_awards"] = [percent(n, all_awards) for n in purposes["awards"]]
    purposes["share_amount"] = [percent(a, all_amount) for a in purposes["amount_p"]]

    paragraphs = [
        f"By their latest approved returns, the awards have reached {totals['patients']:,} patients, with "
        f"{totals['organisations']:,} organisations and {totals['sites']:,} sites adopting.",
        "Shares of awards by purpose: " + "; ".join(
            f"{PURPOSE_SHORT[purpose]} {share or 0}%"
            for purpose, share in zip(purposes["purpose"], purposes["share_awards"], strict=True)) + ".",
        ADOPTION_METHOD,
    ]
    tables = [
        table("adoption_by_network", "Adoption and spread by network and region",
              [("network", "Network", "text"), ("region", "Region", "text"), ("awards", "Awards", "int"),
               ("reporting", "Awards reporting", "int"), ("organisations", "Organisations adopting", "int"),
               ("sites", "Sites adopting", "int"), ("patients", "Patients reached", "int")],
              frame_rows(grouped, ["network", "region", "awards", "reporting", "organisations", "sites", "patients"]),
              total=["Total", "", len(reached), int(reached["reported"].sum()), totals["organisations"], totals["sites"],
                     totals["patients"]], note=ADOPTION_METHOD, keys=2),
        table("awards_by_purpose", "Awards by purpose: adoption, diffusion and pump-priming",
              [("purpose", "Purpose", "text"), ("awards", "Awards", "int"), ("share_awards", "Share of awards (%)", "percent"),
               ("amount", "Amount awarded", "money"), ("share_amount", "Share of amount (%)", "percent")],
              frame_rows(purposes, ["label", "awards", "share_awards", "amount_p", "share_amount"]),
              total=["Total", all_awards, percent(all_awards, all_awards), all_amount, percent(all_amount, all_amount)]),
    ]
    charts = [
        chart("adoption_by_network", "Patients reached by network", "adoption_by_network", "barh", "network", ["patients"], "count"),
        chart("awards_by_purpose", "Share of the amount awarded by purpose", "awards_by_purpose", "barh", "purpose",
              ["share_amount"], "percent"),
    ]
    return section("adoption", "Adoption and spread", paragraphs, tables, charts), totals


# Portfolio health ----------------------------------------------------------------------------------


def _health(sources: Sources, latest: pd.DataFrame, start: dt.date, end: dt.date, cutoff: dt.datetime) -> dict:
    awards = sources.awards
    statuses = awards.groupby("status")["award_id"].count()
    status_rows = [(label, int(statuses.get(value, 0))) for value, label in AWARD_STATUSES.items() if statuses.get(value, 0)]

    rags = latest.set_index("award_id")["rag"].reindex(awards["award_id"]).fillna("").replace("", "none")
    rag_counts = rags.value_counts()
    rag_rows = [(label, int(rag_counts.get(value, 0))) for value, label in
                [(RAG.RED, "Red"), (RAG.AMBER, "Amber"), (RAG.GREEN, "Green"), ("none", "No approved return in the period")]]

    today = timezone.localtime(cutoff).date()
    returns = sources.returns
    due = returns[(returns["due_date"] >= start) & (returns["due_date"] <= min(end, today))
                  & (returns["due_date"] < today)].copy()
    due["submitted_on"] = _local_dates(due["submitted_at"])
    submitted = due["submitted_on"].notna()
    on_time = int((submitted & (due["submitted_on"] <= due["due_date"])).sum()) if len(due) else 0
    late = int(submitted.sum()) - on_time
    missing = len(due) - int(submitted.sum())
    return_rows = [("Fell due in the period", len(due)), ("Submitted on time", on_time), ("Submitted late", late),
                   ("Not yet submitted", missing)]

    variations = sources.variations
    pivot = variations.pivot_table(index="kind", columns="status", values="award_id", aggfunc="count", fill_value=0)
    pivot = pivot.reindex(index=list(dict(VariationKind.choices)), columns=list(dict(VariationStatus.choices)), fill_value=0)
    variation_rows = [(dict(VariationKind.choices)[kind], *(int(v) for v in row)) for kind, row in zip(pivot.index, pivot.to_numpy(), strict=True)]

    paragraphs = [
        f"{on_time} of {len(due)} returns that fell due in the period were submitted on time "
        f"({percent(on_time, len(due)) or 0}%); {missing} are still awaited.",
        f"By their latest approved returns, {rag_rows[2][1]} awards are rated green, {rag_rows[1][1]} amber and "
        f"{rag_rows[0][1]} red.",
        f"Grantees requested {plural(len(variations), 'variation')} in the period.",
    ]
    tables = [
        table("rag", "RAG ratings in the latest approved returns", [("rating", "Rating", "text"), ("awards", "Awards", "int")],
              rag_rows),
        table("returns_on_time", "Monitoring returns due in the period", [("measure", "Returns", "text"), ("count", "Number", "int")],
              return_rows, note="A return is on time if it was submitted on or before its due date (UK time)."),
        table("award_status", "Awards by status", [("status", "Status", "text"), ("awards", "Awards", "int")], status_rows),
        table("variations", "Variations requested in the period",
              [("kind", "Kind", "text"), *[(v, label, "int") for v, label in VariationStatus.choices]], variation_rows),
    ]
    charts = [chart("rag", "RAG ratings in the latest approved returns", "rag", "barh", "rating", ["awards"], "count",
                    colours="rag")]
    return section("health", "Portfolio health", paragraphs, tables, charts)


# The process -----------------------------------------------------------------------------------------


def _withheld(sources: Sources) -> list[dict]:
    """Calls in the scope whose decisions were not released at the cut-off: left out of the report."""
    withheld = sources.withheld_calls
    if withheld is None or withheld.empty:
        return []
    return [{"id": int(pk), "title": str(title)} for pk, title in zip(withheld["call_id"], withheld["call"], strict=True)]


def _process(sources: Sources) -> dict:
    bids = sources.bids.merge(sources.decisions, on="bid_id", how="left")
    bids["eligible"] = bids["status"].isin(ELIGIBLE_BID_STATUSES)
    bids["funded"] = bids["status"] == BidStatus.FUNDED
    bids["score"] = pd.to_numeric(bids["score"], errors="coerce")
    per_call = bids.groupby("call_id").agg(
        received=("bid_id", "count"), eligible=("eligible", "sum"), funded=("funded", "sum"), mean_score=("score", "mean"),
    )
    per_call["funded_score"] = bids[bids["funded"]].groupby("call_id")["score"].mean()
    per_call["unfunded_score"] = bids[~bids["funded"] & bids["outcome"].notna()].groupby("call_id")["score"].mean()
    calls = sources.calls.merge(per_call, left_on="call_id", right_index=True, how="left").fillna(
        {"received": 0, "eligible": 0, "funded": 0})
    calls["purpose_label"] = calls["purpose"].map(PURPOSES)
    calls["rate"] = [percent(f, e) for f, e in zip(calls["funded"], calls["eligible"], strict=True)]
    received, eligible, funded = (int(calls[c].sum()) for c in ("received", "eligible", "funded"))

    decided = bids[bids["outcome"].notna()].copy()
    decided["conditions_n"] = decided["conditions"].map(lambda c: len(c) if isinstance(c, list) else 0)
    outcome_rows = []
    for value, label in OUTCOMES.items():
        rows = decided[decided["outcome"] == value]
        outcome_rows.append((label, len(rows), int((rows["above_funding_line"] == True).sum()),  # noqa: E712
                             int(rows["departs_from_ranking"].fillna(False).astype(bool).sum()),
                             int((rows["conditions_n"] > 0).sum()), rows["score"].mean()))
    moderated = sources.moderations.groupby("call_id")["bid_id"].count()
    departures = int(decided["departs_from_ranking"].fillna(False).astype(bool).sum())
    how = []
    for call in calls.itertuples():
        how.append(
            f"{call.call}: each bid was scored by {call.assessors_per_bid} assessors against the published, weighted "
            f"criteria{' with scores normalised per assessor' if call.normalise_scores else ''}; "
            f"the panel chair moderated {plural(int(moderated.get(call.call_id, 0)), 'score')} where assessors disagreed."
        )
    paragraphs = [
        f"{received} bids were received, {eligible} were eligible and assessed, and {funded} were funded "
        f"({percent(funded, eligible) or 0}% of eligible bids).",
        f"Panels decided {plural(len(decided), 'bid')}; {plural(departures, 'decision')} departed from the ranking, "
        "each with its rationale recorded.",
        *how,
    ]
    withheld = [call["title"] for call in _withheld(sources)]
    if withheld:
        paragraphs.append(
            "Only calls whose decisions have been released are counted. Not yet counted, because their panels' "
            f"decisions are not released: {'; '.join(withheld)}."
        )
    tables = [
        table("process_by_call", "Bids received, eligible and funded by call",
              [("call", "Call", "text"), ("purpose", "Purpose", "text"), ("received", "Received", "int"),
               ("eligible", "Eligible", "int"), ("funded", "Funded", "int"), ("rate", "Funded as % of eligible", "percent"),
               ("mean_score", "Average score (0–100)", "score"), ("funded_score", "Average score, funded", "score"),
               ("unfunded_score", "Average score, not funded", "score")],
              frame_rows(calls, ["call", "purpose_label", "received", "eligible", "funded", "rate", "mean_score",
                                 "funded_score", "unfunded_score"]),
              total=["Total", "", received, eligible, funded, percent(funded, eligible), bids["score"].mean(),
                     bids.loc[bids["funded"], "score"].mean(), bids.loc[~bids["funded"] & bids["outcome"].notna(), "score"].mean()]),
        table("decisions", "How the panels decided",
              [("outcome", "Decision", "text"), ("bids", "Bids", "int"), ("above_line", "Above the funding line", "int"),
               ("departures", "Departed from the ranking", "int"), ("conditions", "With conditions", "int"),
               ("score", "Average score (0–100)", "score")], outcome_rows),
    ]
    charts = [chart("process_by_call", "Bids received, eligible and funded by call", "process_by_call", "bar", "call",
                    ["received", "eligible", "funded"], "count")]
    return section("process", "The process", paragraphs, tables, charts)


# One line per award, and lessons learned --------------------------------------------------------------


def _awards(sources: Sources, latest: pd.DataFrame, headlines: pd.DataFrame, years: list[int]) -> dict:
    awards = sources.awards.merge(headlines, on="award_id", how="left")
    awards = awards.merge(latest[["award_id", "patients_reached"]], on="award_id", how="left")
    ledger = sources.ledger
    paid = ledger[(ledger["kind"] == LedgerEntryKind.PAYMENT) & ledger["financial_year"].isin(years)]
    awards["paid_p"] = awards["award_id"].map(paid.groupby("award_id")["amount_p"].sum()).fillna(0).astype("int64")
    fallback = [f"{int(p):,} patients reached" if not _missing(p) else "No approved return in the period"
                for p in awards["patients_reached"]]
    awards["headline"] = awards["headline"].where(awards["headline"].notna(), pd.Series(fallback, index=awards.index))
    awards["status_label"] = awards["status"].map(AWARD_STATUSES)
    lessons = sources.lessons.copy()
    lessons["sustained_text"] = [
        ("Yes" + (f", funded by {by}" if by else "")) if s is True else ("No" if s is False else "Not stated")
        for s, by in zip(lessons["sustained"], lessons["sustained_by"], strict=True)
    ]
    paragraphs = [f"{len(awards)} awards, with the headline result from each one's latest approved return."]
    tables = [
        table("awards", "Every award",
              [("reference", "Reference", "text"), ("title", "Title", "text"), ("recipient", "Recipient", "text"),
               ("amount", "Amount", "money"), ("paid", "Paid in the period", "money"), ("status", "Status", "text"),
               ("headline", "Headline result", "text")],
              frame_rows(awards, ["reference", "title", "recipient", "amount_p", "paid_p", "status_label", "headline"]),
              total=["Total", "", "", awards["amount_p"].sum(), awards["paid_p"].sum(), "", ""]),
        table("lessons", "Lessons learned from final returns",
              [("reference", "Award", "text"), ("recipient", "Recipient", "text"), ("lessons", "Lessons learned", "text"),
               ("sustained", "Will be sustained", "text")],
              frame_rows(lessons, ["reference", "recipient", "lessons", "sustained_text"])),
    ]
    return section("awards", "Awards and lessons learned", paragraphs, tables)


def find_table(snapshot: dict, key: str) -> dict:
    for part in snapshot["sections"]:
        for item in part["tables"]:
            if item["key"] == key:
                return item
    raise KeyError(key)


def headline_value(snapshot: dict, key: str) -> Any:
    return next(item["value"] for item in snapshot["headline"] if item["key"] == key)
