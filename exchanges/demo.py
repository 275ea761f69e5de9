"""Demo requests between demo members (idempotent), made through the services so their
events reach the notification workers: ada asks ben for a book (open, with a message),
and chloe has given ben a book (the whole cycle, the post is gone)."""


def seed(*, stdout, style):
    """Nothing of its own: requests need the books app's demo posts (seed_links)."""


def seed_links(*, stdout, style):
    from accounts.models import User
    from books.models import BookPost

    from . import services
    from .models import CopyRequest

    members = {u.username: u for u in User.objects.filter(username__in=["ada", "ben", "chloe"])}
    if len(members) < 3:
        return
    ada, ben, chloe = members["ada"], members["ben"], members["chloe"]
    made = 0
    if not CopyRequest.objects.filter(requester=ada, owner=ben).exists():
        post = BookPost.objects.filter(owner=ben, status="available").order_by("-id").first()
        if post is not None:
            req = services.request_create(
                requester=ada, post=post, message="Hello! Could I pick this up on Saturday?"
            )
            services.request_message_post(
                author=ben, request_id=req.pk, body="Hi ada, Saturday morning works for me."
            )
            made += 1
    if not CopyRequest.objects.filter(requester=ben, owner=chloe).exists():
        post = (
            BookPost.objects.filter(owner=chloe, status="available", offer="give")
            .order_by("-id")  # the newest: other demos sample the oldest available posts
            .first()
        )
        if post is not None:
            req = services.request_create(requester=ben, post=post, message="I'd love this one.")
            services.request_accept(actor=chloe, request_id=req.pk)
            services.request_hand_over(actor=chloe, request_id=req.pk)
            services.request_confirm_received(actor=ben, request_id=req.pk)
            made += 1
    stdout.write(f"  demo requests: {made} new (ada → ben open, chloe → ben given)")
