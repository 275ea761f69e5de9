from django.contrib import admin

from .models import ImportJob, ImportRow, ListItem, ReadingList


class ListItemInline(admin.TabularInline):
    model = ListItem
    fields = ["book", "position", "note", "added_at", "read_on"]
    raw_id_fields = ["book"]
    readonly_fields = ["added_at"]
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # items are added through the site (services keep the status rules)


@admin.register(ReadingList)
class ReadingListAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "kind", "is_public", "created_at"]
    list_filter = ["kind", "is_public"]
    search_fields = ["name", "description", "owner__username", "owner__email"]
    raw_id_fields = ["owner"]
    readonly_fields = ["kind", "created_at", "updated_at"]
    list_select_related = ["owner"]
    inlines = [ListItemInline]


@admin.register(ListItem)
class ListItemAdmin(admin.ModelAdmin):
    list_display = ["book", "list", "owner", "status", "position", "added_at"]
    list_filter = ["status", "list__kind", "list__is_public"]
    search_fields = ["book__title", "book__isbn13", "list__name", "owner__username"]
    raw_id_fields = ["list", "book", "owner"]
    readonly_fields = ["owner", "status", "added_at"]
    list_select_related = ["book", "list", "owner"]
    date_hierarchy = "added_at"

    def has_add_permission(self, request):
        return False


class ImportRowInline(admin.TabularInline):
    model = ImportRow
    fields = ["number", "outcome", "reason", "book", "book_created"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    ordering = ["number"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(outcome="imported").select_related("book")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "owner",
        "format",
        "filename",
        "state",
        "done_rows",
        "total_rows",
        "skipped",
        "created_at",
    ]
    list_filter = ["state", "format"]
    search_fields = ["owner__username", "owner__email", "filename"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    list_select_related = ["owner"]
    inlines = [ImportRowInline]

    def has_add_permission(self, request):
        return False
