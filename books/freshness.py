"""Cached read models of the request path kept fresh by the writes themselves.

The per-genre counts of available posts (home and genre pages, and the generation the
genre page's cached cards are keyed by) are forgotten after any commit that adds, removes
or changes the status of a post, whoever makes it (a service, the admin, a shell). Not a
consumer of the post events: a consumer runs later on a worker, and the member who has
just shared a book is redirected to a page that must already count it.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import BookPost
from .selectors import forget_genre_post_counts


@receiver(post_save, sender=BookPost, dispatch_uid="books.genre_counts_on_save")
def genre_counts_on_save(sender, instance: BookPost, created: bool, raw: bool = False, **kw):
    if not raw and (created or instance.status != instance.previous_status):
        transaction.on_commit(forget_genre_post_counts)


@receiver(post_delete, sender=BookPost, dispatch_uid="books.genre_counts_on_delete")
def genre_counts_on_delete(sender, instance: BookPost, **kwargs):
    transaction.on_commit(forget_genre_post_counts)
