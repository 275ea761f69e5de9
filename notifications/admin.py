from django.contrib import admin

from .models import DigestSent, EmailSent, Notification, NotificationActor, Preference


class ActorInline(admin.TabularInline):
    model = NotificationActor
    extra = 0
    raw_id_fields = ["actor"]
    readonly_fields = ["event_id", "created_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "kind", "actor", "actor_count", "title", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient__username", "title"]
    raw_id_fields = ["recipient", "actor", "post", "request"]
    readonly_fields = ["event_id", "group_key", "created_at", "updated_at"]
    inlines = [ActorInline]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "delivery"]
    list_filter = ["kind", "delivery"]
    raw_id_fields = ["user"]
    search_fields = ["user__username"]


@admin.register(EmailSent)
class EmailSentAdmin(admin.ModelAdmin):
    list_display = ["event_id", "recipient", "kind", "sent_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient"]
    search_fields = ["event_id", "recipient__username"]


@admin.register(DigestSent)
class DigestSentAdmin(admin.ModelAdmin):
    list_display = ["recipient", "day", "items", "claimed_at", "sent_at"]
    raw_id_fields = ["recipient"]
    date_hierarchy = "day"
