"""Events the reactions app (likes on posts, reviews of books) publishes.

Likes: thin signals on the PostLike row. Reviews: signals on the Review row. The rating
aggregate's consumer recomputes from the rows, so order and repeats don't matter.
"""

from bookshare.eventbus import Event, event


@event
class PostLiked(Event):
    event_type = "PostLiked"
    version = 1
    source = "reactions"

    like_id: int
    post_id: int
    book_id: int
    user_id: int
    post_owner_id: int


@event
class PostUnliked(Event):
    event_type = "PostUnliked"
    version = 1
    source = "reactions"

    post_id: int
    book_id: int
    user_id: int
    post_owner_id: int


@event
class ReviewSubmitted(Event):
    event_type = "ReviewSubmitted"
    version = 1
    source = "reactions"

    review_id: int
    book_id: int
    user_id: int
    rating: int


@event
class ReviewUpdated(Event):
    event_type = "ReviewUpdated"
    version = 1
    source = "reactions"

    review_id: int
    book_id: int
    user_id: int
    rating: int
    previous_rating: int


@event
class ReviewRemoved(Event):
    event_type = "ReviewRemoved"
    version = 1
    source = "reactions"

    review_id: int
    book_id: int
    user_id: int
    rating: int
