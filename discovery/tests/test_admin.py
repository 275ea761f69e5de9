import pytest
from django.urls import reverse

from books.tests.factories import BookFactory, UserFactory
from discovery import models

from .helpers import add

pytestmark = pytest.mark.django_db

MODELS = [
    models.Signal,
    models.MemberBook,
    models.BookPair,
    models.BookStat,
    models.TrendingEpoch,
    models.Trending,
    models.TrendingGenre,
    models.TrendingDay,
    models.Recommendation,
    models.NotInterested,
    models.GenreMember,
    models.PendingRefresh,
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelists_render_and_derived_rows_are_read_only(staff_client, model):
    member = UserFactory()
    a, b = BookFactory(), BookFactory()
    add(member, a)
    add(member, b)
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert staff_client.get(url).status_code == 200
    add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    assert staff_client.get(add_url).status_code == 403
