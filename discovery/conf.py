"""Discovery's settings, with their defaults (see the end of bookshare/settings.py)."""

from django.conf import settings

DEFAULT_WEIGHTS = {
    "post": 1.0,
    "list": 1.0,
    "favourites": 2.0,
    "like": 1.0,
    "review": 2.0,
    "request": 3.0,
}


def half_life_seconds() -> float:
    return float(getattr(settings, "DISCOVERY_TRENDING_HALF_LIFE_HOURS", 72)) * 3600


def weights() -> dict[str, float]:
    return {**DEFAULT_WEIGHTS, **getattr(settings, "DISCOVERY_TRENDING_WEIGHTS", {})}


def member_cap() -> int:
    return int(getattr(settings, "DISCOVERY_MEMBER_CAP", 30))


def min_support() -> int:
    return int(getattr(settings, "DISCOVERY_MIN_SUPPORT", 2))


def seed_count() -> int:
    return int(getattr(settings, "DISCOVERY_SEEDS", 20))


def neighbour_count() -> int:
    return int(getattr(settings, "DISCOVERY_NEIGHBOURS", 40))


def rec_count() -> int:
    return int(getattr(settings, "DISCOVERY_RECOMMENDATIONS", 30))


def genre_boost() -> float:
    return float(getattr(settings, "DISCOVERY_GENRE_BOOST", 0.5))


def recency_half_life_seconds() -> float:
    return float(getattr(settings, "DISCOVERY_RECENCY_HALF_LIFE_DAYS", 60)) * 86400


def similarity_alpha() -> float:
    return float(getattr(settings, "DISCOVERY_SIMILARITY_ALPHA", 0.7))


def shrinkage() -> float:
    return float(getattr(settings, "DISCOVERY_SHRINKAGE", 3.0))


def refresh_delay_seconds() -> float:
    """How long a member's refresh waits after the first event that needs it: events in
    that window share one refresh."""
    return float(getattr(settings, "DISCOVERY_REFRESH_DELAY_SECONDS", 2.0))


def genre_panel_seconds() -> float:
    """How long a genre page's community columns are served from the shared cache."""
    return float(getattr(settings, "DISCOVERY_GENRE_PANEL_SECONDS", 5))
