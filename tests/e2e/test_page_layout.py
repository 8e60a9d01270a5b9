"""Given the demo data, when people open the pages with the widest tables on a 1280 px desktop
and a 390 px phone, then no table is wider than the page, a table wider than its column scrolls
inside a labelled region people can reach with the keyboard, the page never scrolls sideways, the
register's results have the page's width, and the score sheet keeps the bid beside the criteria
(much shorter than the bid and criteria stacked). axe passes on every page at both widths."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from assessment.models import Assignment, AssignmentStatus
from governance.models import Fund, Pot, User
from tests.e2e.conftest import check_accessibility

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 390)

# Every table: its box against the page's width container, and against the wrapper it scrolls in.
MEASURE = """() => {
  const page = document.querySelector('.nhsuk-width-container main, main').getBoundingClientRect();
  const tables = [...document.querySelectorAll('main table')].map(table => {
    const box = table.getBoundingClientRect();
    const wrapper = table.closest('.app-table-wrapper');
    const scrolls = wrapper && getComputedStyle(wrapper).overflowX === 'auto';
    return {
      name: (table.caption ? table.caption.textContent : table.className).trim().replace(/\\s+/g, ' ').slice(0, 60),
      width: box.width, right: box.right, pageRight: page.right + 0.5,
      wrapperRight: wrapper ? wrapper.getBoundingClientRect().right + 0.5 : null,
      wrapperWidth: wrapper ? wrapper.clientWidth + 0.5 : null,
      inBidPanel: Boolean(table.closest('.app-score-layout__bid')),
      region: Boolean(wrapper && scrolls && wrapper.tabIndex === 0 && wrapper.getAttribute('role') === 'region'
                      && wrapper.getAttribute('aria-label')),
    };
  });
  return {tables, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          height: document.documentElement.scrollHeight};
}"""


# How many lines of text an element's content takes (distinct line tops of its text).
COUNT_LINES = """e => {
  const tops = []; const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange(); range.selectNodeContents(walker.currentNode);
    for (const r of range.getClientRects()) if (r.width > 1 && !tops.some(t => Math.abs(t - r.top) < 6)) tops.push(r.top);
  }
  return tops.length; }"""


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)
    fund = Fund.objects.get(slug="south-west-adoption-fund")
    return {
        "manager": User.objects.get(email="manager.southwest@example.com"),
        "assessor": User.objects.get(email="assessor@example.com"),
        "fund": fund,
        "pot": Pot.objects.filter(fund=fund).first(),
        "sheet": Assignment.objects.filter(assessor__email="assessor@example.com", status=AssignmentStatus.ACTIVE).first(),
    }


def _check_widths(page, width: int) -> dict:
    found = page.evaluate(MEASURE)
    where = f"{page.url} at {width} px"
    assert found["scrollWidth"] <= found["innerWidth"], f"{where}: the page scrolls sideways ({found['scrollWidth']} px)"
    for table in found["tables"]:
        # Nothing pokes out of the page's column.
        assert table["right"] <= table["pageRight"] or (table["wrapperRight"] and table["wrapperRight"] <= table["pageRight"]), (where, table)
        if table["width"] > (table["wrapperWidth"] or table["pageRight"]):
            # Wider than its column: it scrolls inside a labelled region reachable with the keyboard.
            assert table["region"], (where, table)
        if width == 1280 and not table["inBidPanel"]:
            # At desktop width every table fits its column: nothing to scroll, nothing clipped
            # (the bid beside a score sheet is a narrow panel: a wide table there scrolls in its region).
            assert table["width"] <= (table["wrapperWidth"] or table["pageRight"]), (where, table)
    return found


def test_tables_fit_or_scroll_in_a_region_at_desktop_and_phone_widths(page, live_server, sign_in, demo):
    manager_pages = [
        f"/manage/funds/{demo['fund'].slug}/",  # the budget table, calls, the pot ledger
        f"/manage/funds/{demo['fund'].slug}/pots/{demo['pot'].pk}/",
        "/manage/calls/virtual-wards-adoption/",  # the call page: criteria, rubrics, pot budgets
        "/calls/virtual-wards-adoption/",
        f"/assessment/funds/{demo['fund'].slug}/conflicts/",  # the conflicts register
        "/assessment/calls/virtual-wards-adoption/",
        "/register/",
    ]
    sign_in(demo["manager"])
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in manager_pages:
            page.goto(live_server.url + path)
            _check_widths(page, width)
            check_accessibility(page)

        # The register's results take the page's width: the award column is not squeezed.
        page.goto(live_server.url + "/register/")
        results = page.locator(".app-register-results table").bounding_box()
        container = page.locator("main").bounding_box()
        assert results["width"] >= container["width"] * 0.95 or width == 390, (width, results, container)
        if width == 1280:
            # The award column has the room it needs: the widest column, each award in at most
            # four short lines (its title, then its reference, call and date), not a squeezed column.
            award_column = page.locator(".app-register-results thead th").first.bounding_box()
            assert award_column["width"] >= container["width"] * 0.4, (award_column, container)
            for cell in page.locator(".app-register-results tbody tr td:first-child").all():
                assert cell.evaluate(COUNT_LINES) <= 4, cell.inner_text()


def test_the_score_sheet_keeps_the_bid_beside_the_criteria(page, live_server, sign_in, demo):
    sign_in(demo["assessor"])
    url = f"{live_server.url}/assessment/assignments/{demo['sheet'].pk}/sheet/"
    heights = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        found = _check_widths(page, width)
        check_accessibility(page)
        bid = page.locator(".app-score-layout__bid")
        criteria = page.locator(".app-score-layout__criteria")
        bid_box, criteria_box = bid.bounding_box(), criteria.bounding_box()
        if width == 1280:
            # Side by side: the bid on the left in a panel no taller than the window, which
            # scrolls by itself and stays in view as the criteria scroll past.
            assert bid_box["x"] + bid_box["width"] <= criteria_box["x"]
            assert bid_box["height"] <= 900
            assert bid.evaluate("e => e.scrollHeight > e.clientHeight")
            page.mouse.wheel(0, 2500)
            page.wait_for_timeout(200)
            assert -1 <= bid.bounding_box()["y"] <= 40
            stacked = bid.evaluate("e => e.scrollHeight") + criteria_box["height"]
            # Much shorter than the bid and the criteria one after the other (10,400 px before).
            assert found["height"] < stacked * 0.75, (found["height"], stacked)
            assert found["height"] < 6000
        else:
            # Stacked on a phone: the bid, then the criteria, each the page's width.
            assert bid_box["y"] + bid_box["height"] <= criteria_box["y"] + 1
        heights[width] = found["height"]
    assert heights[1280] < heights[390]
