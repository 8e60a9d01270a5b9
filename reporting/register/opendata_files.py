"""Open data files built ahead: the unfiltered 360Giving JSON, CSV and XLSX of every published
award, built by a Celery task for each public version (``reporting.register.public_version``) and stored
through Django's storage (a local folder, or S3-compatible object storage in production), then
served as files: a download of the whole register costs a file read, not a rebuild.

- The files of a version live under ``open-data/<version token>/``: a file there is, byte for
  byte, what the streaming path would give for that version, so it carries the same validator.
- When a download finds no files for the current version, it asks for a build (through the
  outbox, at most once a few minutes per version) and streams this once, as before. The beat's
  ``reporting.register.tasks.refresh_open_data`` asks too, so the files follow the register even when no
  one downloads: changes in a burst make one build (the debounce), not one each.
- A build checks the version before and after: if the register changed while it ran, the files
  are dropped and the next build makes them (nothing stale is ever labelled current).
- Older versions' files are deleted once a newer version's are in place.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from governance.outbox import outbox_enqueue

from .opendata import stream_360giving, stream_csv, write_xlsx
from .public_version import public_version
from .selectors import AwardFilter, register_stamp, site_url

FOLDER = "open-data"
BUILD_TASK = "reporting.register.tasks.build_open_data"
REQUEST_DEBOUNCE_SECONDS = 300  # one build asked for per version in this long
UNFILTERED_JSON_PATH = "/register/360giving.json"


@dataclass(frozen=True)
class Kind:
    name: str
    filename: str


JSON, CSV, XLSX = Kind("360giving", "360giving.json"), Kind("csv", "awards.csv"), Kind("xlsx", "awards.xlsx")
KINDS = {kind.name: kind for kind in (JSON, CSV, XLSX)}


def _path(token: str, kind: Kind) -> str:
    return f"{FOLDER}/{token}/{kind.filename}"


def built_file(token: str, kind_name: str):
    """The stored file of this kind for this version, opened for reading, or None."""
    path = _path(token, KINDS[kind_name])
    try:
        return default_storage.open(path, "rb")
    except (FileNotFoundError, OSError):
        return None


def is_built(token: str, kind_name: str) -> bool:
    return default_storage.exists(_path(token, KINDS[kind_name]))


def all_awards():
    """The unfiltered selection, exactly as a download with no filters makes it."""
    filterset = AwardFilter({})
    filterset.qs  # noqa: B018 - builds the selection (lazily: no query yet), as the download view does
    return filterset.unsorted


def request_build(token: str) -> bool:
    """Ask for the files of this version (through the outbox), unless asked recently. True if asked."""
    if not cache.add(f"open-data:asked:{token}", 1, timeout=REQUEST_DEBOUNCE_SECONDS):
        return False
    with transaction.atomic():
        outbox_enqueue(BUILD_TASK)
    return True


def _store(path: str, handle) -> None:
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, File(handle, name=path.rsplit("/", 1)[-1]))


def _write_text(pieces, handle) -> None:
    for piece in pieces:
        handle.write(piece.encode())
    handle.flush()
    handle.seek(0)


def _build_into(token: str) -> list[str]:
    """Write the three files of the current data under this version's folder; their paths."""
    queryset = all_awards()
    stamp = register_stamp(queryset)
    written = []
    if stamp.count:  # a 360Giving package needs at least one grant: with none, downloads say so
        with tempfile.TemporaryFile() as handle:
            _write_text(stream_360giving(queryset, download_url=site_url(UNFILTERED_JSON_PATH),
                                         last_modified=stamp.last_modified), handle)
            _store(_path(token, JSON), handle)
            written.append(_path(token, JSON))
    with tempfile.TemporaryFile() as handle:
        _write_text(stream_csv(queryset), handle)
        _store(_path(token, CSV), handle)
        written.append(_path(token, CSV))
    with write_xlsx(queryset) as handle:
        _store(_path(token, XLSX), handle)
        written.append(_path(token, XLSX))
    return written


def _delete_other_versions(keep: str) -> None:
    try:
        folders, _ = default_storage.listdir(FOLDER)
    except (FileNotFoundError, OSError):
        return
    for folder in folders:
        if folder == keep:
            continue
        try:
            _, files = default_storage.listdir(f"{FOLDER}/{folder}")
        except (FileNotFoundError, OSError):
            continue
        for name in files:
            default_storage.delete(f"{FOLDER}/{folder}/{name}")
        location = getattr(default_storage, "location", None)
        if location:  # a local folder: remove the empty directory too
            shutil.rmtree(f"{location}/{FOLDER}/{folder}", ignore_errors=True)


def open_data_build() -> str | None:
    """Build the files for the current version (the task's work). Idempotent: a version whose
    files are there is not built again. The token built, or None if the data moved meanwhile."""
    token = public_version().token
    if is_built(token, CSV.name) and is_built(token, XLSX.name):
        return token
    written = _build_into(token)
    if public_version().token != token:  # changed while building: these files are not that version
        for path in written:
            default_storage.delete(path)
        return None
    _delete_other_versions(keep=token)
    return token


def open_data_refresh() -> bool:
    """The beat's check: ask for a build if the current version has no files yet."""
    token = public_version().token
    if is_built(token, XLSX.name):
        return False
    return request_build(token)
