"""Site admin for bids: read-mostly. Bids change through the portal's services so every
change is audited; the admin is for looking things up."""

from django.contrib import admin

from governance.admin import ReadOnlyInline

from . import models


class SectionStateInline(ReadOnlyInline):
    model = models.BidSectionState
    fields = ["section", "status", "version", "updated_by", "updated_at"]
    readonly_fields = fields  # type: ignore[assignment]  # the stubs type fields as groups; these are plain names


class PartnerInline(ReadOnlyInline):
    model = models.BidPartner
    fields = ["organisation", "role", "contribution"]
    readonly_fields = fields  # type: ignore[assignment]  # the stubs type fields as groups; these are plain names


class CostInline(ReadOnlyInline):
    model = models.BidCost
    fields = ["financial_year", "category", "nature", "description", "amount"]
    readonly_fields = fields  # type: ignore[assignment]  # the stubs type fields as groups; these are plain names


class AttachmentInline(ReadOnlyInline):
    model = models.Attachment
    fields = ["original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at", "scan_status",
              "scan_signature"]
    readonly_fields = fields  # type: ignore[assignment]  # the stubs type fields as groups; these are plain names


@admin.register(models.Bid)
class BidAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "lead_organisation", "call", "status", "endorsement_status", "submitted_at"]
    list_filter = ["status", "endorsement_status", "call"]
    search_fields = ["reference", "title", "lead_organisation__name", "lead_organisation__ods_code"]
    list_select_related = ["lead_organisation", "call"]
    inlines = [SectionStateInline, PartnerInline, CostInline, AttachmentInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(models.BidReferenceSequence)
class BidReferenceSequenceAdmin(admin.ModelAdmin):
    list_display = ["prefix", "last_number"]
    readonly_fields = ["prefix", "last_number"]

    def has_add_permission(self, request):
        return False
