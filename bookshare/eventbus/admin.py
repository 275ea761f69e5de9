import contextlib
import uuid

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html

from .models import Delivery, StoredEvent
from .operations import replay


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("consumer", "queue", "status", "attempts", "resends", "finished_at", "latency_ms")
    readonly_fields = fields
    show_change_link = True


@admin.register(StoredEvent)
class StoredEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "type", "version", "source", "occurred_at", "correlation_id")
    list_filter = ("type", "source", "version")
    search_fields = ("=id", "=correlation_id", "=causation_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in StoredEvent._meta.fields]
    inlines = [DeliveryInline]
    actions = ["replay_all_deliveries"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        # An invalid UUID in the box must not become a 500; match it as a correlation id.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(Q(id=uuid.UUID(term)) | Q(correlation_id=term)), False
        except ValueError:
            return queryset.filter(Q(correlation_id=term) | Q(causation_id=term)), False

    def has_replay_permission(self, request):
        # The admin never edits deliveries, but replaying one changes its state: it
        # takes the change permission that view-only staff do not have.
        return request.user.has_perm("eventbus.change_delivery")

    @admin.action(
        description="Replay every delivery of the selected events", permissions=["replay"]
    )
    def replay_all_deliveries(self, request, queryset):
        n = replay(Delivery.objects.filter(event__in=queryset))
        self.message_user(request, f"{n} deliveries queued again.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["css/admin-eventbus.css"]}

    list_display = (
        "id",
        "event_type",
        "consumer",
        "queue",
        "colored_status",
        "attempts",
        "resends",
        "created_at",
        "finished_at",
        "latency_ms",
    )
    list_filter = ("status", "queue", "consumer", "event__type")
    search_fields = ("=event__correlation_id",)
    list_select_related = ("event",)
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["replay_selected"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        query = Q(event__correlation_id=term)
        with contextlib.suppress(ValueError):
            query |= Q(event__id=uuid.UUID(term))
        # ASCII digits only (str.isdigit() takes '¹²³', which int() refuses), and
        # within a bigint.
        if term.isascii() and term.isdigit() and len(term) <= 18:
            query |= Q(pk=int(term))
        return queryset.filter(query), False

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description="status", ordering="status")
    def colored_status(self, obj):
        # A class, not a style attribute: the CSP allows no inline styles.
        return format_html(
            '<strong class="bus-status bus-status--{}">{}</strong>', obj.status, obj.status
        )

    def has_replay_permission(self, request):
        return request.user.has_perm("eventbus.change_delivery")

    @admin.action(description="Replay the selected deliveries", permissions=["replay"])
    def replay_selected(self, request, queryset):
        n = replay(queryset)
        self.message_user(request, f"{n} deliveries queued again.", messages.SUCCESS)
