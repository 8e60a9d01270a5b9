"""Form fields and widgets in the NHS.UK style, shared by every app's forms.

Dates are typed as day, month and year (the NHS.UK date input); money is read with
``parse_money`` so "£12,500" works and "12.345" gets a clear message.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from .money import parse_money

DATE_INCOMPLETE = "Enter a full date: day, month and year"
DATE_NOT_REAL = "Enter a real date"
TIME_NOT_REAL = "Enter a time like 12:00 or 17:30 (24-hour clock)"


class NHSDateWidget(forms.MultiWidget):
    template_name = "nhsuk/widgets/date.html"

    def __init__(self, attrs=None):
        widgets = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class NHSDateTimeWidget(forms.MultiWidget):
    """Day, month, year and a 24-hour time, read in Europe/London."""

    template_name = "nhsuk/widgets/datetime.html"

    def __init__(self, attrs=None):
        widgets = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
            "time": forms.TextInput(attrs={"class": "nhsuk-input--width-5"}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, dt.datetime):
            local = timezone.localtime(value, zoneinfo.ZoneInfo(settings.TIME_ZONE))
            return [local.day, local.month, local.year, local.strftime("%H:%M")]
        return [None, None, None, None]


def _to_date(day, month, year) -> dt.date:
    if not (day and month and year):
        raise ValidationError(DATE_INCOMPLETE, code="incomplete")
    try:
        day_n, month_n, year_n = int(str(day).strip()), int(str(month).strip()), int(str(year).strip())
        if not 1900 <= year_n <= 2100:
            raise ValueError
        return dt.date(year_n, month_n, day_n)
    except (TypeError, ValueError):
        raise ValidationError(DATE_NOT_REAL, code="invalid") from None


class NHSDateField(forms.MultiValueField):
    widget = NHSDateWidget

    def __init__(self, **kwargs):
        fields = (forms.CharField(), forms.CharField(), forms.CharField())
        kwargs.setdefault("require_all_fields", False)
        super().__init__(fields=fields, **kwargs)

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else self.widget.decompress(value)
        if not any(str(v or "").strip() for v in values):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        result = _to_date(*values)
        self.validate(result)
        self.run_validators(result)
        return result

    def compress(self, data_list):  # pragma: no cover - clean() does the work
        return _to_date(*data_list) if data_list else None


class NHSDateTimeField(forms.MultiValueField):
    """A moment typed in UK time; stored as an aware datetime."""

    widget = NHSDateTimeWidget

    def __init__(self, **kwargs):
        fields = (forms.CharField(), forms.CharField(), forms.CharField(), forms.CharField())
        kwargs.setdefault("require_all_fields", False)
        super().__init__(fields=fields, **kwargs)

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else self.widget.decompress(value)
        if not any(str(v or "").strip() for v in values):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        day, month, year, time_text = values
        date = _to_date(day, month, year)
        try:
            time = dt.time.fromisoformat(str(time_text or "").strip().zfill(5))
        except ValueError:
            raise ValidationError(TIME_NOT_REAL, code="invalid_time") from None
        result = dt.datetime.combine(date, time, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
        self.validate(result)
        self.run_validators(result)
        return result

    def compress(self, data_list):  # pragma: no cover - clean() does the work
        return None


class MoneyField(forms.CharField):
    """An amount in pounds and pence, returned as ``Decimal``; never a float."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-10", "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return parse_money(value)

    def prepare_value(self, value):
        return "" if value is None else str(value)


class EmailAuthenticationForm(AuthenticationForm):
    """Sign in with an email address."""

    error_messages = {
        "invalid_login": "Enter a correct email address and password. Both are case-sensitive except the email.",
        "inactive": "This account is inactive.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget = forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"})
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"
