from django.contrib.admin.apps import AdminConfig


class BookShareAdminConfig(AdminConfig):
    """django.contrib.admin with BookShare's admin site (bookshare/core/admin_site.py)."""

    default_site = "bookshare.core.admin_site.BookShareAdminSite"
