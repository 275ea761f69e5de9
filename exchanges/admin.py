from django.contrib import admin

from .models import CopyRequest, RequestMessage


class RequestMessageInline(admin.TabularInline):
    model = RequestMessage
    extra = 0
    readonly_fields = ["author", "body", "created_at"]
    can_delete = False


@admin.register(CopyRequest)
class CopyRequestAdmin(admin.ModelAdmin):
    """Read-mostly: transitions go through the site's services (they lock, publish and
    keep the post in step), so the state is not editable here."""

    list_display = ["id", "book", "requester", "owner", "offer", "state", "created_at"]
    list_filter = ["state", "offer"]
    search_fields = ["book__title", "requester__username", "owner__username"]
    raw_id_fields = ["post", "book", "owner", "requester", "offered_post"]
    readonly_fields = [
        "post_number",
        "state",
        "declined_automatically",
        "created_at",
        "updated_at",
        "accepted_at",
        "handed_over_at",
        "received_at",
        "closed_at",
    ]
    inlines = [RequestMessageInline]


@admin.register(RequestMessage)
class RequestMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "request", "author", "created_at"]
    search_fields = ["body", "author__username"]
    raw_id_fields = ["request", "author"]
