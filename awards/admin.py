"""Admin for awards. Money moves only through the services (they lock the pot and write the
ledger), so awards, profiles, ledger entries and instalments are read-only here."""

from django.contrib import admin

from governance.admin import ReadOnlyAdmin, ReadOnlyInline

from . import models


class AwardYearInline(ReadOnlyInline):
    model = models.AwardYear


@admin.register(models.Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "recipient", "amount", "status", "offer_deadline"]
    list_filter = ["status"]
    search_fields = ["reference", "title", "recipient__name"]
    inlines = [AwardYearInline]


@admin.register(models.PotLedgerEntry)
class PotLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "pot", "financial_year", "kind", "amount", "award"]
    list_filter = ["kind", "financial_year"]


@admin.register(models.Instalment)
class InstalmentAdmin(ReadOnlyAdmin):
    list_display = ["award", "financial_year", "quarter", "amount", "status", "requires_return", "paid_on", "payment_reference"]
    list_filter = ["status"]


@admin.register(models.AwardCondition)
class AwardConditionAdmin(ReadOnlyAdmin):
    list_display = ["title", "award", "due_date", "holds_back", "status", "evidence_scan_status"]
    list_filter = ["status", "evidence_scan_status"]


@admin.register(models.OfferLetter)
class OfferLetterAdmin(ReadOnlyAdmin):
    list_display = ["award", "version", "status", "created_at", "ready_at"]
    list_filter = ["status"]


@admin.register(models.Variation)
class VariationAdmin(ReadOnlyAdmin):
    list_display = ["award", "kind", "status", "requested_at", "decided_at"]
    list_filter = ["kind", "status"]


@admin.register(models.ConditionTemplate)
class ConditionTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "fund", "for_digital", "pre_start"]
    list_filter = ["fund", "for_digital"]
