from io import StringIO

import pytest
from django.core.management import call_command

from accounts import demo
from accounts.models import User
from bookshare.eventbus.models import StoredEvent

pytestmark = pytest.mark.django_db


def run_seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_creates_verified_members_and_prints_the_password():
    output = run_seed()
    assert demo.DEMO_PASSWORD in output
    members = User.objects.filter(username__in=[m[0] for m in demo.MEMBERS])
    assert members.count() == len(demo.MEMBERS)
    assert all(m.is_verified and m.check_password(demo.DEMO_PASSWORD) for m in members)


def test_seed_is_idempotent():
    run_seed()
    users = User.objects.count()
    registered = StoredEvent.objects.filter(type="UserRegistered").count()
    run_seed()
    assert User.objects.count() == users >= len(demo.MEMBERS)
    assert StoredEvent.objects.filter(type="UserRegistered").count() == registered == users


def test_one_seed_run_gives_members_their_favourite_genres():
    run_seed()
    slugs = set(User.objects.get(username="ada").favourite_genres.values_list("slug", flat=True))
    assert slugs == {"fantasy", "travel"}
