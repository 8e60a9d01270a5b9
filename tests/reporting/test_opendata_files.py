"""Open data files built ahead: the unfiltered 360Giving JSON, CSV and XLSX are built by a task
(asked for through the outbox) for each public version, stored through Django's storage and
served as files, equal to what the streaming path gives; filtered downloads still stream."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.storage import default_storage
from openpyxl import load_workbook

from governance.models import OutboxMessage
from reporting.register import opendata_files
from reporting.register.opendata_files import (
    BUILD_TASK,
    FOLDER,
    is_built,
    open_data_build,
    open_data_refresh,
    request_build,
)
from reporting.register.public_version import public_version
from tests.reporting.register_builders import Scene

pytestmark = pytest.mark.django_db
JSON, CSV, XLSX = "/register/360giving.json", "/register/awards.csv", "/register/awards.xlsx"
EVERYTHING = {"q": ""}  # a filter that selects every award: the streaming path


@pytest.fixture
def scene():
    return Scene()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def xlsx_values(data: bytes) -> list[list]:
    return [[cell.value for cell in row] for row in load_workbook(io.BytesIO(data)).active.iter_rows()]


def same_package(built: bytes, streamed: bytes) -> None:
    built_package, streamed_package = json.loads(built), json.loads(streamed)
    assert built_package.pop("downloadURL").endswith(JSON)
    assert streamed_package.pop("downloadURL").endswith(JSON + "?q=")
    assert built_package == streamed_package


def test_the_first_download_answers_asks_for_the_build_once_and_the_files_equal_the_streaming_path(
        client, scene, django_capture_on_commit_callbacks):
    token = public_version().token
    assert not is_built(token, "csv")
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(CSV)
    # The first download is answered (streamed) and the build asked for through the outbox,
    # once; the worker (here in-process, after the commit) builds all three.
    assert first.status_code == 200
    streamed = body(first)
    assert streamed == body(client.get(CSV, EVERYTHING))
    assert OutboxMessage.objects.filter(task_name=BUILD_TASK).count() == 1
    for kind in ("360giving", "csv", "xlsx"):
        assert is_built(token, kind), kind
    csv_file = client.get(CSV)
    assert csv_file.__class__.__name__ == "FileResponse"
    assert body(csv_file) == streamed
    same_package(body(client.get(JSON)), body(client.get(JSON, EVERYTHING)))
    assert xlsx_values(body(client.get(XLSX))) == xlsx_values(body(client.get(XLSX, EVERYTHING)))
    assert OutboxMessage.objects.filter(task_name=BUILD_TASK).count() == 1


@pytest.mark.parametrize(("path", "content_type", "disposition"), [
    (JSON, "application/json; charset=utf-8", None),
    (CSV, "text/csv; charset=utf-8", 'attachment; filename="award-register-'),
    (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 'attachment; filename="award-register-'),
])
def test_built_files_are_served_as_files_with_their_type_name_and_validator(client, scene, path, content_type,
                                                                           disposition):
    open_data_build()
    response = client.get(path)
    assert response.status_code == 200
    assert response.__class__.__name__ == "FileResponse"
    assert response["Content-Type"] == content_type
    assert int(response["Content-Length"]) > 0
    if disposition:
        assert response["Content-Disposition"].startswith(disposition)
        assert response["Content-Disposition"].endswith(path.rsplit(".", 1)[1] + '"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "public" in response["Cache-Control"]
    body(response)
    again = client.get(path, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_filtered_downloads_still_stream(client, scene):
    open_data_build()
    response = client.get(CSV, {"fund": "adoption-fund"})
    assert response.__class__.__name__ == "StreamingHttpResponse"
    assert b"Spread call" not in body(response)


def test_the_files_are_rebuilt_after_a_change_and_the_old_ones_go(client, scene, django_capture_on_commit_callbacks):
    first = open_data_build()
    assert first == public_version().token
    scene.a1.recipient.name = "Renamed Valley NHS Trust"
    scene.a1.recipient.save()
    token = public_version().token
    assert token != first
    # The beat notices the register changed and asks for a build through the outbox (debounced).
    with django_capture_on_commit_callbacks(execute=True):
        assert open_data_refresh() is True
    assert OutboxMessage.objects.filter(task_name=BUILD_TASK).count() == 1
    assert open_data_refresh() is False  # built already (by the in-process worker)
    assert is_built(token, "csv")
    assert not is_built(first, "csv")
    assert default_storage.listdir(FOLDER)[0] == [token]
    text = body(client.get(CSV)).decode()
    assert "Renamed Valley NHS Trust" in text
    assert text == body(client.get(CSV, EVERYTHING)).decode()


def test_a_build_for_a_version_that_moved_on_meanwhile_is_dropped(scene, monkeypatch):
    real = opendata_files._build_into

    def build_then_change(token):
        written = real(token)
        scene.a1.save()  # the register changes while the files are written
        return written

    monkeypatch.setattr(opendata_files, "_build_into", build_then_change)
    token = public_version().token
    assert open_data_build() is None
    assert not is_built(token, "csv")
    assert not is_built(public_version().token, "csv")


def test_asking_for_a_build_is_debounced_per_version(scene):
    token = public_version().token
    assert request_build(token) is True
    assert request_build(token) is False
    assert OutboxMessage.objects.filter(task_name=BUILD_TASK).count() == 1


def test_without_a_build_the_download_streams_as_before(client, scene, monkeypatch):
    """Celery not running: the build waits in the outbox, and the download is still right."""
    monkeypatch.setattr("reporting.register.views.request_build", lambda token: False)
    response = client.get(CSV)
    assert response.status_code == 200
    assert response.__class__.__name__ == "StreamingHttpResponse"
    assert body(response) == body(client.get(CSV, EVERYTHING))


def test_a_build_that_fails_in_process_does_not_fail_the_download(client, scene, monkeypatch):
    def broken(token):
        raise RuntimeError("storage unavailable")

    monkeypatch.setattr("reporting.register.views.request_build", broken)
    response = client.get(CSV)
    assert response.status_code == 200
    assert body(response) == body(client.get(CSV, EVERYTHING))
