"""Producers of reaction events: thin post_save/post_delete adapters, nothing else."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bookshare.eventbus import publish

from .events import PostLiked, PostUnliked, ReviewRemoved, ReviewSubmitted, ReviewUpdated
from .models import PostLike, Review


@receiver(post_save, sender=PostLike, dispatch_uid="reactions.postlike_saved")
def postlike_saved(sender, instance: PostLike, created: bool, raw: bool = False, **kwargs):
    if raw or not created:
        return
    post = instance.post
    publish(
        PostLiked(
            like_id=instance.pk,
            post_id=post.pk,
            book_id=post.book_id,
            user_id=instance.user_id,
            post_owner_id=post.owner_id,
        )
    )


@receiver(post_delete, sender=PostLike, dispatch_uid="reactions.postlike_deleted")
def postlike_deleted(sender, instance: PostLike, **kwargs):
    # When the post itself is being deleted its likes go first, so the post row (or the
    # instance cached on the like) is still there to read.
    post = instance.post
    publish(
        PostUnliked(
            post_id=post.pk,
            book_id=post.book_id,
            user_id=instance.user_id,
            post_owner_id=post.owner_id,
        )
    )


@receiver(post_save, sender=Review, dispatch_uid="reactions.review_saved")
def review_saved(sender, instance: Review, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    if created:
        publish(
            ReviewSubmitted(
                review_id=instance.pk,
                book_id=instance.book_id,
                user_id=instance.user_id,
                rating=instance.rating,
            )
        )
    else:
        publish(
            ReviewUpdated(
                review_id=instance.pk,
                book_id=instance.book_id,
                user_id=instance.user_id,
                rating=instance.rating,
                previous_rating=instance.previous_rating,
            )
        )
    instance._loaded_rating = instance.rating


@receiver(post_delete, sender=Review, dispatch_uid="reactions.review_deleted")
def review_deleted(sender, instance: Review, **kwargs):
    publish(
        ReviewRemoved(
            review_id=instance.pk,
            book_id=instance.book_id,
            user_id=instance.user_id,
            rating=instance.rating,
        )
    )
