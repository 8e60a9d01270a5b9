"""The shared page partials: a table in a labelled scroll region, a summary list, pagination and
an empty state. Pages keep their own rows; the partials keep the markup around them."""

import pytest
from django.core.paginator import Paginator
from django.template import Context, RequestContext, Template, TemplateSyntaxError
from django.test import RequestFactory


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


TABLE = ('{% table caption="Awards, newest first" headers="Reference|Amount:numeric|Action:hidden" '
         'rows=items empty="No awards match." %}{% for item in items %}<tr><td>{{ item }}</td></tr>{% endfor %}'
         "{% endtable %}")


def test_a_table_is_a_focusable_region_named_by_its_caption_with_its_headers_and_rows():
    html = _render(TABLE, items=["A1"])
    assert '<div class="app-table-wrapper" tabindex="0" role="region" aria-label="Awards, newest first">' in html
    assert '<caption class="nhsuk-table__caption nhsuk-u-visually-hidden">Awards, newest first</caption>' in html
    assert '<th class="nhsuk-table__header" scope="col">Reference</th>' in html
    assert '<th class="nhsuk-table__header app-table__cell--numeric" scope="col">Amount</th>' in html
    assert '<span class="nhsuk-u-visually-hidden">Action</span></th>' in html
    assert "<tr><td>A1</td></tr>" in html


def test_a_table_can_build_its_header_row_from_data_and_take_more_classes():
    html = _render('{% table caption="Budget" table_class="app-table--compact" %}{% head %}{% column "Pot" %}'
                   '{% for year in years %}{% column year "numeric" %}{% endfor %}{% if can_manage %}'
                   '{% column "Action" "hidden" %}{% endif %}{% body %}<tr><td>Pot A</td></tr>{% endtable %}',
                   years=["2026-27", "2027-28"], can_manage=False)
    assert '<table class="nhsuk-table app-table--compact">' in html
    assert '<th class="nhsuk-table__header" scope="col">Pot</th>' in html
    assert '<th class="nhsuk-table__header app-table__cell--numeric" scope="col">2027-28</th>' in html
    assert "Action" not in html
    assert html.index("2027-28") < html.index("<tbody")
    assert "<tr><td>Pot A</td></tr>" in html


def test_nothing_may_stand_before_a_tables_head():
    with pytest.raises(TemplateSyntaxError, match="nothing may come before"):
        Template('{% table caption="x" %}<tr></tr>{% head %}{% column "A" %}{% body %}{% endtable %}')


def test_a_table_may_write_its_caption_in_the_page_and_then_names_its_region_itself():
    html = _render(
        "{% table label=name %}{% caption %}Ranking for {{ name }}{% if line %}: falls at {{ line }}"
        '{% endif %}<br><span class="small">How to read it.</span>{% head %}{% column "Rank" %}'
        "{% body %}<tr><td>1</td></tr>{% endtable %}",
        name="Pot <A>",
        line="",
    )
    assert 'role="region" aria-label="Pot &lt;A&gt;"' in html
    assert (
        '<caption class="nhsuk-table__caption nhsuk-u-visually-hidden">Ranking for Pot &lt;A&gt;<br>'
        '<span class="small">How to read it.</span></caption>'
    ) in html
    assert "falls at" not in html
    assert '<th class="nhsuk-table__header" scope="col">Rank</th>' in html
    assert "<tr><td>1</td></tr>" in html
    with pytest.raises(TemplateSyntaxError, match="needs label="):
        Template('{% table %}{% caption %}Pot{% head %}{% column "A" %}{% body %}{% endtable %}')


def test_a_tables_caption_may_be_visible_in_body_text_and_a_column_may_take_a_class_of_its_own():
    html = _render(
        '{% table caption="Bids" caption_class="" %}{% head %}{% column "Award" css="app-wide" %}'
        '{% column "Amount" "numeric" css="app-wide" %}{% body %}{% endtable %}'
    )
    numeric = "app-table__cell--numeric"
    assert '<caption class="nhsuk-table__caption">Bids</caption>' in html
    assert '<th class="nhsuk-table__header app-wide" scope="col">Award</th>' in html
    assert f'<th class="nhsuk-table__header {numeric} app-wide" scope="col">Amount</th>' in html


def test_a_table_with_no_rows_says_so_instead():
    html = _render(TABLE, items=[])
    assert "<table" not in html
    assert "<p>No awards match.</p>" in html


def test_a_table_sees_only_what_it_is_given():
    """A page's own ``page`` or ``empty`` must not leak into a table that was not given them."""
    page = Paginator(list(range(30)), 10).get_page(2)
    html = _render('{% table caption="x" headers="A" %}<tr><td>1</td></tr>{% endtable %}', page=page, empty="Nothing")
    assert "nhsuk-pagination" not in html
    assert "Nothing" not in html


def test_a_paged_table_has_previous_and_next_links_keeping_the_query():
    request = RequestFactory().get("/awards/?status=active&page=2")
    page = Paginator(list(range(30)), 10).get_page(2)
    html = Template('{% table caption="x" headers="A" rows=page.object_list page=page %}{% endtable %}').render(
        RequestContext(request, {"page": page}))
    assert 'href="?status=active&amp;page=1"' in html
    assert 'href="?status=active&amp;page=3"' in html
    assert "Page 1 of 3" in html
    assert "Page 3 of 3" in html


def test_pagination_follows_links_a_view_made():
    class _CursorPage:
        number, num_pages = 2, 40
        previous_url, next_url = "/register/?page=1&before=x", ""

    html = _render('{% include "includes/pagination.html" with page=page %}', page=_CursorPage())
    assert 'href="/register/?page=1&amp;before=x"' in html
    assert "Page 1 of 40" in html
    assert "nhsuk-pagination__link--next" not in html


def test_a_summary_list_keeps_each_rows_key_and_value():
    html = _render('{% summary_list %}{% summary_row key="Project" %}<a href="/p">{{ title }}</a>{% endsummary_row %}'
                   '{% summary_row key=label value_class="app-pre-wrap" %}{{ text }}{% endsummary_row %}{% endsummary_list %}',
                   title="Falls <service>", label="Scope", text="Two\nlines")
    assert html.strip().startswith('<dl class="nhsuk-summary-list">')
    assert ('<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">Project</dt>'
            '<dd class="nhsuk-summary-list__value"><a href="/p">Falls &lt;service&gt;</a></dd></div>') in html
    assert '<dd class="nhsuk-summary-list__value app-pre-wrap">Two\nlines</dd>' in html


TASKS = ('{% task_list %}{% for name, hint in tasks %}{% task name=name url="/b/1/"|add:name id="task-"|add:name link=can_edit %}'
         '<strong class="nhsuk-tag">Done</strong>{% hint %}{{ hint }}{% endtask %}{% endfor %}{% endtask_list %}')


def test_a_task_links_to_its_page_and_names_its_hint_and_status_for_screen_readers():
    html = _render(TASKS, tasks=[("budget", "Costs by year"), ("risks", "")], can_edit=True)
    assert html.count('<ul class="nhsuk-task-list">') == 1
    assert ('<a class="nhsuk-task-list__link nhsuk-link" href="/b/1/budget" '
            'aria-describedby="task-budget-hint task-budget-status">budget</a>') in html
    assert '<div class="nhsuk-task-list__hint" id="task-budget-hint">Costs by year</div>' in html
    # a task whose hint is empty has no hint, and its link names only the status
    assert 'aria-describedby="task-risks-status">risks</a>' in html
    assert 'id="task-risks-hint"' not in html
    assert '<div class="nhsuk-task-list__status" id="task-risks-status">\n    <strong class="nhsuk-tag">Done</strong>' in html


def test_a_task_someone_may_only_read_is_not_a_link():
    html = _render(TASKS, tasks=[("budget", "Costs by year")], can_edit=False)
    assert "<a " not in html
    assert "nhsuk-task-list__item--with-link" not in html
    assert "budget" in html
