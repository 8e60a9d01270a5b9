"""Organisations from NHS ODS: the CSV downloads in their published layout (small files this test
writes itself, in the same layout), the ORD API (a local HTTP server standing in for it), the
command, the beat task, successors after mergers, and bad input."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from governance import ods
from governance.models import Organisation, OrganisationKind, Region
from governance.selectors import organisation_search
from governance.tasks import import_ods

pytestmark = pytest.mark.django_db
SHARED_ODS = Path(settings.BASE_DIR).parent / "shared" / "data" / "ods"


def row(code, name, *, grouping="Y58", geography="QJK", postcode="EX2 5DW", opened="19930401", closed="",
        status="", parent="", setting="") -> str:
    """One line in the ODS standard layout (27 columns, no header)."""
    cells = [code, name, grouping, geography, "BARRACK ROAD", "", "EXETER", "DEVON", "", postcode, opened, closed,
             status, "B" if setting else "", parent, "", "", "", "", "", "", "0", "", parent, "", setting, ""]
    return ",".join(f'"{c}"' for c in cells) + "\n"


@pytest.fixture
def files(tmp_path):
    def write(name, *lines):
        path = tmp_path / name
        path.write_text("".join(lines))
        return path
    return write


def test_trusts_load_with_their_names_postcodes_dates_and_region(files):
    path = files("etr.csv", row("RH8", "ROYAL DEVON AND EXETER NHS FOUNDATION TRUST"),
                 row("RK9", "UNIVERSITY HOSPITALS PLYMOUTH NHS TRUST", postcode="PL68DH", opened="19930401"))
    result = ods.import_csv_file(path)
    assert len(result.created) == 2
    rh8 = Organisation.objects.get(ods_code="RH8")
    assert rh8.name == "Royal Devon and Exeter NHS Foundation Trust"
    assert rh8.kind == OrganisationKind.FOUNDATION_TRUST
    assert rh8.postcode == "EX2 5DW"
    assert rh8.opened_on == dt.date(1993, 4, 1)
    assert rh8.closed_on is None
    assert rh8.region == Region.SOUTH_WEST
    assert rh8.ods_role == "RO197"
    assert Organisation.objects.get(ods_code="RK9").kind == OrganisationKind.NHS_TRUST
    assert Organisation.objects.get(ods_code="RK9").postcode == "PL6 8DH"


def test_loading_twice_changes_nothing_and_a_change_is_reported(files):
    path = files("etr.csv", row("RH8", "ROYAL DEVON AND EXETER NHS FOUNDATION TRUST"))
    ods.import_csv_file(path)
    again = ods.import_csv_file(path)
    assert (again.created, again.updated, again.closed, again.unchanged) == ([], [], [], 1)
    renamed = files("etr2.csv", row("RH8", "ROYAL DEVON UNIVERSITY HEALTHCARE NHS FOUNDATION TRUST"))
    result = ods.import_csv_file(renamed, "etr")
    assert result.updated == ["RH8 Royal Devon University Healthcare NHS Foundation Trust: name"]


def test_a_closed_trust_is_closed_and_points_to_its_successor_and_its_awards_stay_readable(files):
    from tests.factories.governance import OrganisationFactory

    rbz = OrganisationFactory(ods_code="RBZ", name="Northern Devon Healthcare NHS Trust", kind=OrganisationKind.NHS_TRUST)
    ods.import_csv_file(files("etr.csv", row("RH8", "ROYAL DEVON UNIVERSITY HEALTHCARE NHS FOUNDATION TRUST")))
    result = ods.import_csv_file(files("etr.csv", row("RBZ", "NORTHERN DEVON HEALTHCARE NHS TRUST", closed="20220331")), "etr")
    assert result.closed == ["RBZ Northern Devon Healthcare NHS Trust (closed 2022-03-31)"]
    result = ods.import_csv_file(files("succ.csv", '"RBZ","RH8","R","20220401","A"\n'))
    rbz.refresh_from_db()
    assert rbz.successor.ods_code == "RH8"
    assert rbz.current.ods_code == "RH8"
    assert rbz.closed_on == dt.date(2022, 3, 31)  # the date ODS gave is kept
    assert ods.import_csv_file(files("succ.csv", '"RBZ","RH8","R","20220401","A"\n')).unchanged == 1
    # The closed trust is still found (a bid or award names it), after the open ones, with its successor.
    found = list(organisation_search("Devon"))
    assert [o.ods_code for o in found] == ["RH8", "RBZ"]


def test_practices_pcns_icbs_sites_and_councils_load_from_their_files(files):
    ods.import_csv_file(files("eccg.csv", row("QJK", "NHS DEVON INTEGRATED CARE BOARD", geography=""),
                              row("15N", "NHS DEVON ICB - 15N", geography="QJK")))
    icb = Organisation.objects.get(ods_code="QJK")
    icb.ons_icb_code, icb.ons_icb_name = "E54000037", "NHS Devon ICB"
    icb.save()
    ods.import_csv_file(files("epcn.csv", row("U48915", "EXETER CITY PCN", parent="15N")))
    ods.import_csv_file(files("epraccur.csv",
                              row("L83016", "ST THOMAS MEDICAL GROUP", parent="15N", status="A", setting="4"),
                              row("L83679", "A WALK-IN CENTRE", parent="15N", status="A", setting="2"),
                              row("L83003", "CLOSED SURGERY", closed="20171031", status="C", setting="4")))
    ods.import_csv_file(files("ets.csv", row("RH801", "ROYAL DEVON & EXETER HOSPITAL (WONFORD)")))
    ods.import_csv_file(files("ela.csv", row("878", "DEVON COUNTY COUNCIL", geography="")))
    kinds = dict(Organisation.objects.values_list("ods_code", "kind"))
    assert kinds == {
        "QJK": OrganisationKind.ICB, "15N": OrganisationKind.SUB_ICB, "U48915": OrganisationKind.PRIMARY_CARE_NETWORK,
        "L83016": OrganisationKind.GP_PRACTICE, "L83003": OrganisationKind.GP_PRACTICE,
        "RH801": OrganisationKind.NHS_SITE, "878": OrganisationKind.LOCAL_AUTHORITY,
    }
    practice = Organisation.objects.get(ods_code="L83016")
    assert practice.parent.ods_code == "15N"
    assert practice.ons_icb_code == "E54000037"  # from its ICB (the health geography column)
    assert Organisation.objects.get(ods_code="L83003").closed_on == dt.date(2017, 10, 31)
    # A bidder finds each by name or by code.
    for query, code in [("devon county", "878"), ("878", "878"), ("Exeter City", "U48915"), ("u48915", "U48915"),
                        ("St Thomas", "L83016"), ("L83016", "L83016")]:
        assert code in [o.ods_code for o in organisation_search(query)], query


@pytest.mark.parametrize(("content", "message"), [
    ('"ORGANISATION CODE","NAME","X","Y","A","B","C","D","E","F","G","H"\n', "header row"),
    ('"RH8","ROYAL DEVON"\n', "columns"),
])
def test_files_not_in_the_published_layout_are_refused_and_change_nothing(files, content, message):
    with pytest.raises(ods.OdsFormatError, match=message):
        ods.import_csv_file(files("etr.csv", row("RK9", "UNIVERSITY HOSPITALS PLYMOUTH NHS TRUST"), content)
                            if message == "columns" else files("etr.csv", content))
    assert not Organisation.objects.exists()


def test_rows_with_codes_that_do_not_fit_the_kind_are_skipped_with_a_reason(files):
    result = ods.import_csv_file(files("epcn.csv", row("X1", "NOT A PCN")))
    assert result.skipped == ["X1: not a valid code for Primary care network"]
    assert not Organisation.objects.exists()


def test_the_command_reports_and_refuses_what_it_cannot_read(files):
    path = files("etr.csv", row("RH8", "ROYAL DEVON AND EXETER NHS FOUNDATION TRUST"))
    out = StringIO()
    call_command("import_ods", str(path), stdout=out, verbosity=2)
    assert "1 created, 0 updated, 0 closed, 0 unchanged, 0 skipped" in out.getvalue()
    assert "created: RH8 Royal Devon and Exeter NHS Foundation Trust" in out.getvalue()
    out = StringIO()
    call_command("import_ods", str(path), stdout=out)
    assert "0 created, 0 updated, 0 closed, 1 unchanged" in out.getvalue()
    with pytest.raises(CommandError, match="cannot tell the ODS file"):
        call_command("import_ods", str(files("organisations.csv", "")))
    with pytest.raises(CommandError, match="Give ODS CSV files"):
        call_command("import_ods")


@pytest.mark.skipif(not SHARED_ODS.exists(), reason="the shared ODS samples are next to the repository in CI")
def test_the_published_sample_files_load():
    out = StringIO()
    call_command("import_ods", *sorted(str(p) for p in SHARED_ODS.glob("*.csv")), stdout=out)
    assert Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE).count() > 300
    assert Organisation.objects.filter(kind__in=[OrganisationKind.NHS_TRUST, OrganisationKind.FOUNDATION_TRUST]).count() == 241
    assert Organisation.objects.get(ods_code="A81001").name == "The Densham Surgery"
    assert Organisation.objects.get(ods_code="A81003").closed_on == dt.date(2017, 10, 31)
    again = StringIO()
    call_command("import_ods", *sorted(str(p) for p in SHARED_ODS.glob("*.csv")), stdout=again)
    assert "Total: 0 created, 0 updated, 0 closed" in again.getvalue()


# The ODS API (ORD), served by a local stand-in -------------------------------------------------

ORD = {
    "RH8": {"Organisation": {
        "Name": "ROYAL DEVON UNIVERSITY HEALTHCARE NHS FOUNDATION TRUST", "OrgId": {"extension": "RH8"},
        "Status": "Active", "Date": [{"Type": "Operational", "Start": "1993-04-01"}],
        "GeoLoc": {"Location": {"PostCode": "EX2 5DW"}},
        "Roles": {"Role": [{"id": "RO197", "primaryRole": True}]},
    }},
    "RBZ": {"Organisation": {
        "Name": "NORTHERN DEVON HEALTHCARE NHS TRUST", "OrgId": {"extension": "RBZ"}, "Status": "Inactive",
        "Date": [{"Type": "Operational", "Start": "1991-04-01", "End": "2022-03-31"}],
        "GeoLoc": {"Location": {"PostCode": "EX31 4JB"}},
        "Roles": {"Role": [{"id": "RO197", "primaryRole": True}]},
        "Succs": {"Succ": [{"Type": "Successor", "Target": {"OrgId": {"extension": "RH8"}}}]},
    }},
}


@pytest.fixture
def ord_server():
    requested = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            code = self.path.rsplit("/", 1)[-1]
            if self.path.endswith(".csv"):
                body = row("RK9", "UNIVERSITY HOSPITALS PLYMOUTH NHS TRUST").encode()
            elif code in ORD:
                body = json.dumps(ORD[code]).encode()
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requested
    server.shutdown()
    server.server_close()


def test_the_api_loads_organisations_with_their_successors(ord_server):
    base, requested = ord_server
    result = ods.refresh_from_api(["RH8", "RBZ", "ZZZ"], base_url=f"{base}/ORD/2-0-0")
    assert {line.split()[0] for line in result.created} == {"RH8", "RBZ"}
    assert any(line.startswith("ZZZ:") for line in result.skipped)  # not found: said, not fatal
    rbz = Organisation.objects.get(ods_code="RBZ")
    assert rbz.closed_on == dt.date(2022, 3, 31)
    assert rbz.successor.ods_code == "RH8"
    assert Organisation.objects.get(ods_code="RH8").name == "Royal Devon University Healthcare NHS Foundation Trust"
    assert "/ORD/2-0-0/organisations/RH8" in requested


def test_the_command_refreshes_from_the_api(ord_server):
    base, _ = ord_server
    out = StringIO()
    call_command("import_ods", "--api", "RH8", "--api-url", f"{base}/ORD/2-0-0", stdout=out)
    assert "ODS API: 1 created" in out.getvalue()


def test_the_beat_task_does_nothing_unless_configured_then_loads_the_sources(ord_server, settings):
    base, _ = ord_server
    settings.ODS_SOURCE_URLS, settings.ODS_API_URL = [], ""
    assert import_ods() == "no ODS source configured"
    settings.ODS_SOURCE_URLS = [f"{base}/downloads/etr.csv"]
    settings.ODS_API_URL = f"{base}/ORD/2-0-0"
    summary = import_ods()
    assert summary.startswith("1 created")
    assert Organisation.objects.filter(ods_code="RK9").exists()
    assert import_ods().startswith("0 created, 0 updated, 0 closed, 1 unchanged")


def test_an_award_of_a_merged_trust_stays_readable_and_points_to_its_successor(client, files):
    from tests.reporting.register_builders import Scene

    scene = Scene()
    recipient = scene.a1.recipient
    successor = Organisation.objects.create(name="Royal Devon University Healthcare NHS Foundation Trust",
                                            kind=OrganisationKind.FOUNDATION_TRUST, ods_code="RH8")
    recipient.successor, recipient.closed_on = successor, dt.date(2022, 3, 31)
    recipient.save()
    page = client.get(f"/register/{scene.a1.reference}/").content.decode()
    assert recipient.name in page
    assert "its work continues at" in page
    assert successor.name in page
