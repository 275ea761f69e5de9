"""Events the discovery app publishes: joining and leaving genre communities."""

from bookshare.eventbus import Event, event


@event
class GenreJoined(Event):
    event_type = "GenreJoined"
    version = 1
    source = "discovery"

    user_id: int
    genre_id: int


@event
class GenreLeft(Event):
    event_type = "GenreLeft"
    version = 1
    source = "discovery"

    user_id: int
    genre_id: int
