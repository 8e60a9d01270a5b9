"""Site admin. Accounts, organisations, memberships and fund roles are set up here. Funds,
pots and budgets, calls, criteria and panels change only through the portal's pages, whose
services check the rules and write the audit trail, so they are read-only here; so are the
later stages' records (they use the two read-only classes below)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError

from . import models
from .second_factor import second_factor_reset


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False



@admin.register(models.User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("full_name", "job_title")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    actions = ["reset_second_factor"]

    @admin.action(description="Reset the second factor (lost phone): remove their authenticator app and recovery codes")
    def reset_second_factor(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                second_factor_reset(actor=request.user, user=user)
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.ERROR)
                return
            done += 1
        self.message_user(request, f"Second factor reset for {done} account{'s' if done != 1 else ''}: staff set up a "
                                   "new authenticator app at their next sign-in.", messages.SUCCESS)


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "ods_code", "official_org_id", "region", "network", "closed_on"]
    list_filter = ["kind", "region"]
    search_fields = ["name", "ods_code", "official_org_id", "company_number", "charity_number", "ukprn"]
    autocomplete_fields = ["successor", "parent"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["name", "kind", "network", "region", "short_name", "website"]}),
        ("Identifiers", {
            "fields": ["official_org_id", "ods_code", "company_number", "charity_number", "ukprn", "edu_urn"],
            "description": "A funder (a network hosting a fund) needs its official org-id before its fund's "
                           "awards are issued: open data names the funder by it.",
        }),
        ("From NHS ODS", {"fields": ["ods_role", "postcode", "opened_on", "closed_on", "successor", "parent"]}),
        ("ONS geography (open data)", {"fields": ["ons_local_authority_code", "ons_local_authority_name",
                                                  "ons_icb_code", "ons_icb_name"]}),
    ]


@admin.register(models.OrganisationRequest)
class OrganisationRequestAdmin(ReadOnlyAdmin):
    """Decided by the network's fund managers in the portal; listed here, read-only."""

    list_display = ["name", "kind", "network", "status", "requested_by", "created_at"]
    list_filter = ["status", "kind"]


class PotBudgetInline(ReadOnlyInline):
    model = models.PotBudget


@admin.register(models.Pot)
class PotAdmin(ReadOnlyAdmin):
    list_display = ["name", "fund", "network"]
    inlines = [PotBudgetInline]


@admin.register(models.Fund)
class FundAdmin(ReadOnlyAdmin):
    list_display = ["name", "host_network", "allocation_model", "first_year", "last_year"]


class RubricInline(ReadOnlyInline):
    model = models.RubricDescriptor


@admin.register(models.Criterion)
class CriterionAdmin(ReadOnlyAdmin):
    list_display = ["title", "call", "kind", "weight"]
    inlines = [RubricInline]


@admin.register(models.Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["title", "fund", "status", "opens_at", "closes_at"]
    list_filter = ["status", "purpose"]
    search_fields = ["title", "slug"]


class PanelMemberInline(ReadOnlyInline):
    model = models.PanelMember


@admin.register(models.Panel)
class PanelAdmin(ReadOnlyAdmin):
    list_display = ["name", "fund"]
    inlines = [PanelMemberInline]


admin.site.register(models.FundRole)
admin.site.register(models.Notification)


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, even for site admins."""

    list_display = ["occurred_at", "actor_label", "action", "target_label", "fund"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target_label", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.site_header = "Fund Portal administration"
admin.site.site_title = "Fund Portal admin"


@admin.register(models.OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Side effects waiting for, handed to or done by the workers (read-only: the beat hands
    waiting ones over by itself)."""

    list_display = ["created_at", "task_name", "args", "status", "attempts", "next_attempt_at", "dispatched_at",
                    "done_at"]
    list_filter = ["status", "task_name"]
    search_fields = ["task_name", "task_id", "last_error"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in models.OutboxMessage._meta.fields]


@admin.register(models.Expertise)
class ExpertiseAdmin(admin.ModelAdmin):
    """The managed list of areas of expertise: site admins add, rename and retire them."""

    list_display = ("name", "is_active", "description")
    list_filter = ("is_active",)
    search_fields = ("name",)
