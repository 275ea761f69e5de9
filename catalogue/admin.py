from django.contrib import admin

from .models import BookDetails, PriceComparison, PriceQuote


@admin.register(BookDetails)
class BookDetailsAdmin(admin.ModelAdmin):
    list_display = ("book", "status", "pages", "attempts", "fetched_at")
    list_filter = ("status",)
    search_fields = ("book__title", "book__isbn13")
    raw_id_fields = ("book",)
    readonly_fields = ("request_event_id", "requested_at", "fetched_at", "lease_until")


class PriceQuoteInline(admin.TabularInline):
    model = PriceQuote
    extra = 0
    readonly_fields = ("provider", "kind", "condition", "amount", "currency", "url", "reason")
    can_delete = False


@admin.register(PriceComparison)
class PriceComparisonAdmin(admin.ModelAdmin):
    list_display = ("book", "status", "requested_by", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("book__title", "book__isbn13")
    raw_id_fields = ("book", "requested_by")
    readonly_fields = ("event_id", "created_at", "started_at", "finished_at", "lease_until")
    inlines = [PriceQuoteInline]
