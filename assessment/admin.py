"""Admin for assessment. Every change goes through the services (they check the rules and write
the audit trail), so the records are read-only here."""

from django.contrib import admin

from governance.admin import ReadOnlyAdmin, ReadOnlyInline

from . import models


@admin.register(models.Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["bid", "assessor", "status", "due_date", "assigned_at"]
    list_filter = ["status"]
    search_fields = ["bid__reference", "assessor__email", "assessor__full_name"]


@admin.register(models.ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "has_conflict", "kind", "declared_at"]
    list_filter = ["has_conflict", "kind"]


class ScoreInline(ReadOnlyInline):
    model = models.Score


@admin.register(models.ScoreSheet)
class ScoreSheetAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "status", "submitted_at"]
    list_filter = ["status"]
    inlines = [ScoreInline]


@admin.register(models.Moderation)
class ModerationAdmin(ReadOnlyAdmin):
    list_display = ["bid", "criterion", "score", "moderated_by", "moderated_at"]


@admin.register(models.PanelDecision)
class PanelDecisionAdmin(ReadOnlyAdmin):
    list_display = ["bid", "outcome", "amount_approved", "rank", "score", "above_funding_line", "departs_from_ranking",
                    "released_at"]
    list_filter = ["outcome", "departs_from_ranking"]
    search_fields = ["bid__reference", "bid__title"]
