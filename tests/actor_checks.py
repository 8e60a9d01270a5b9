"""Shared by the ``test_service_actors.py`` files: call a service as the wrong person and check
it refuses before changing anything (the watched rows and row counts as they were, no audit
event, no notification)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms.models import model_to_dict

from governance.models import AuditEvent, Notification


def _rows(watch: Iterable[models.Model]) -> list[dict]:
    return [model_to_dict(type(obj).objects.get(pk=obj.pk)) for obj in watch]


def _counts(counted: Iterable[type[models.Model]]) -> list[int]:
    return [model.objects.count() for model in counted]


def assert_refused(call: Callable[[], object], *, watch: Iterable[models.Model] = (),
                   counted: Iterable[type[models.Model]] = (), refusal: type[Exception] = PermissionDenied) -> None:
    watch, counted = list(watch), list(counted)
    rows, counts = _rows(watch), _counts(counted)
    events, notes = AuditEvent.objects.count(), Notification.objects.count()
    with pytest.raises(refusal):
        call()
    assert _rows(watch) == rows
    assert _counts(counted) == counts
    assert AuditEvent.objects.count() == events
    assert Notification.objects.count() == notes
