"""Filters for public lists, read from the query string so they work without JavaScript."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from .models import CallPurpose
from .selectors import PUBLIC_PHASES, networks


class PublicCallFilter(django_filters.FilterSet):
    """``/calls/?network=<id>&purpose=<value>&status=<open|upcoming|closed|decided>``.

    The queryset must come from ``selectors.calls_public_listing`` (it adds ``public_phase``).
    A network matches the calls it hosts and calls with a pot for it (ring-fenced funds).
    """

    network = django_filters.ModelChoiceFilter(
        label="Network (region)", queryset=networks(), method="filter_network", empty_label="All networks",
        widget=forms.Select,
    )
    purpose = django_filters.ChoiceFilter(
        label="Purpose", choices=CallPurpose.choices, empty_label="Any purpose", widget=forms.Select,
    )
    status = django_filters.ChoiceFilter(
        label="Status", choices=PUBLIC_PHASES, field_name="public_phase", empty_label="Any status",
        widget=forms.Select,
    )

    def filter_network(self, queryset, name, value):
        return queryset.filter(Q(host_network=value) | Q(pots__network=value)).distinct()
