from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import clock
from .models import PasswordResetEmail, User, VerificationCode, VerificationRecord
from .services import verification_code_request


class VerifiedFilter(admin.SimpleListFilter):
    title = "email verified"
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return (("yes", "Verified"), ("no", "Not verified"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(email_verified_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(email_verified_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "verified",
        "email_verified_at",
        "date_joined",
        "last_login",
        "is_active",
        "is_staff",
    )
    list_filter = (VerifiedFilter, "is_active", "is_staff", "date_joined", "last_login")
    search_fields = ("username", "email")
    ordering = ("-date_joined",)
    date_hierarchy = "date_joined"
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ("email_verified_at", "bio", "favourite_genres")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups", "user_permissions", "favourite_genres")
    actions = ("send_verification_code",)

    @admin.display(boolean=True, description="verified", ordering="email_verified_at")
    def verified(self, obj):
        return obj.is_verified

    def save_model(self, request, obj, form, change):
        # A member created by staff has an address staff vouch for: no code is emailed.
        if not change and obj.email_verified_at is None:
            obj.email_verified_at = clock.now()
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a new verification code", permissions=["change"])
    def send_verification_code(self, request, queryset):
        # Staff sends obey the member's own limits (once a minute, five an hour): an
        # admin account must not be a way to flood someone's inbox.
        sent = verified = waiting = 0
        for user in queryset:
            result = verification_code_request(
                user=user, detail=f"by staff {request.user.username}"[:200]
            )
            if result.sent:
                sent += 1
            elif result.outcome == "cooldown":
                waiting += 1
            else:
                verified += 1
        if sent:
            self.message_user(request, f"A new code is on its way to {sent} member(s).")
        if verified:
            self.message_user(
                request, f"{verified} member(s) are already verified: no code sent.", messages.INFO
            )
        if waiting:
            self.message_user(
                request,
                f"{waiting} member(s) had a code moments ago: no code sent (members get at most "
                f"one a minute and {settings.ACCOUNTS_RESEND_PER_HOUR} an hour, from staff too).",
                messages.WARNING,
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records for inspection only: nobody adds, edits or deletes them by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VerificationRecord)
class VerificationRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "ip", "detail", "code")
    list_filter = ("kind", "created_at")
    search_fields = ("user__username", "user__email", "ip")
    list_select_related = ("user", "code")
    date_hierarchy = "created_at"


@admin.register(VerificationCode)
class VerificationCodeAdmin(ReadOnlyAdmin):
    list_display = (
        "user",
        "email",
        "status",
        "failed_attempts",
        "created_at",
        "sent_at",
        "expires_at",
        "finished_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("user__username", "email", "event_id")
    list_select_related = ("user",)
    exclude = ("code_hash",)


@admin.register(PasswordResetEmail)
class PasswordResetEmailAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "user", "email", "event_id")
    search_fields = ("user__username", "email")
    list_select_related = ("user",)


# -- sign-in lockout (django-axes) ----------------------------------------------------------
# axes' own admin registers on import; ours replaces it so that its "clean up" action
# works from the admin (axes' version expects attributes that only its authentication
# backend sets on the request: a 500 found by the admin fuzz test) and needs the
# delete permission.
import axes.admin  # noqa: E402,F401 - registers AccessAttempt, replaced below
from axes.admin import AccessAttemptAdmin  # noqa: E402
from axes.handlers.proxy import AxesProxyHandler  # noqa: E402
from axes.models import AccessAttempt  # noqa: E402


class LockoutAttemptAdmin(AccessAttemptAdmin):
    actions = ["cleanup_expired_attempts"]

    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        AxesProxyHandler.update_request(request)
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(request, f"Cleaned up {count} expired access attempts.")


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, LockoutAttemptAdmin)
