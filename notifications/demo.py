"""Demo notifications. Most come from the exchanges demo's events once the workers run;
this adds a grouped one (two members liked one of ada's posts) so grouping shows before
likes exist on the site. Idempotent."""

import uuid

DEMO_NAMESPACE = uuid.UUID("6b1f3f0e-6c55-4c1e-9b0e-0d3c3a1b2c4d")


def seed(*, stdout, style):
    """Nothing of its own: it needs the members' posts (seed_links)."""


def seed_links(*, stdout, style):
    from accounts.models import User
    from books.models import BookPost

    from .routing import Target
    from .services import notify

    members = {u.username: u for u in User.objects.filter(username__in=["ada", "ben", "chloe"])}
    if len(members) < 3:
        return
    post = BookPost.objects.filter(owner=members["ada"]).order_by("id").first()
    if post is None:
        return
    for fan in ("ben", "chloe"):
        notify(
            event_id=uuid.uuid5(DEMO_NAMESPACE, f"like:{post.pk}:{fan}"),
            targets=[
                Target(
                    recipient_id=members["ada"].pk,
                    kind="post_liked",
                    actor_id=members[fan].pk,
                    book_id=post.book_id,
                    post_id=post.pk,
                    group_key=f"post_liked:{post.pk}",
                )
            ],
        )
    stdout.write("  demo notifications: ada's post liked by ben and chloe (one grouped row)")
