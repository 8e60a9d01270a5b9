"""Private helpers the topic modules share: one ValidationError with our messages and the
model's, a save that turns a unique-constraint race into a field's message, collecting errors by
field, and locking a call's row."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from ..models import Call

# Shared helpers -------------------------------------------------------------------------------


def _validate(instance: models.Model, errors: dict[str, list[str]] | None = None) -> None:
    """Raise one ValidationError with our own messages and the model's, field by field.

    Fields that already have one of our messages are left out of ``full_clean`` so a person
    sees one clear message per field, not ours and Django's generic one.
    """
    errors = {name: list(messages) for name, messages in (errors or {}).items() if messages}
    try:
        instance.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            known = errors.setdefault(name, [])
            known.extend(message for message in messages if message not in known)
    if errors:
        raise ValidationError(errors)


def _save_unique(instance: models.Model, field: str, message: str) -> None:
    """Save, turning a unique-constraint race on ``field`` into the field's message."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError({field: message}) from None


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _lock_call(call: Call) -> Call:
    return Call.objects.select_for_update().select_related("fund").get(pk=call.pk)
