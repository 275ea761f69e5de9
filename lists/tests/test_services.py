import pytest
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookshare.eventbus.models import StoredEvent
from lists import services
from lists.models import ListItem, ListKind, ReadingList

from .factories import BookFactory, CustomListFactory, UserFactory

pytestmark = pytest.mark.django_db


def events(type_):
    return [e.data for e in StoredEvent.objects.filter(type=type_).order_by("seq")]


def builtin(user):
    return services.lists_ensure_builtin(user=user)


def test_a_new_member_gets_the_four_builtin_lists_once():
    user = UserFactory()
    kinds = sorted(ReadingList.objects.filter(owner=user).values_list("kind", flat=True))
    assert kinds == sorted(["want_to_read", "reading", "read", "favourites"])
    services.lists_ensure_builtin(user=user)
    assert ReadingList.objects.filter(owner=user).count() == 4
    assert ReadingList.objects.get(owner=user, kind="reading").name == "Reading"


def test_raw_user_saves_make_no_lists_but_ensure_builtin_does():
    user = UserFactory()
    data = serializers.serialize("json", [user])
    ReadingList.objects.filter(owner=user).delete()
    for obj in serializers.deserialize("json", data):
        obj.save()
    assert not ReadingList.objects.filter(owner=user).exists()
    assert set(services.lists_ensure_builtin(user=user)) == {
        "want_to_read",
        "reading",
        "read",
        "favourites",
    }


def test_adding_to_a_custom_list_publishes_book_added_with_kind_and_privacy():
    shelf = CustomListFactory(is_public=False)
    book = BookFactory()
    item, created = services.list_add_book(reading_list=shelf, book=book, note=" gift ")
    assert created and item.note == "gift"
    assert events("BookAddedToList") == [
        {
            "item_id": item.pk,
            "list_id": shelf.pk,
            "book_id": book.pk,
            "user_id": shelf.owner_id,
            "list_kind": "custom",
            "list_public": False,
        }
    ]
    again, created = services.list_add_book(reading_list=shelf, book=book)
    assert again.pk == item.pk and not created
    assert len(events("BookAddedToList")) == 1


def test_favourites_event_says_favourites():
    user = UserFactory()
    services.list_add_book(reading_list=builtin(user)["favourites"], book=BookFactory())
    (data,) = events("BookAddedToList")
    assert data["list_kind"] == "favourites" and data["list_public"] is True


def test_moving_between_status_lists_is_one_status_change_not_remove_and_add():
    user, book = UserFactory(), BookFactory()
    first, _ = services.status_set(user=user, book=book, status="want_to_read")
    moved, changed = services.status_set(user=user, book=book, status="reading")
    assert changed and moved.pk == first.pk
    assert moved.list == builtin(user)["reading"]
    assert len(events("BookAddedToList")) == 1
    assert events("BookRemovedFromList") == []
    assert events("ReadingStatusChanged") == [
        {
            "item_id": first.pk,
            "book_id": book.pk,
            "user_id": user.pk,
            "previous_status": "want_to_read",
            "status": "reading",
            "list_public": True,
        }
    ]
    assert ListItem.objects.filter(owner=user, book=book).count() == 1


def test_adding_to_the_read_list_from_a_list_page_moves_the_status():
    user, book = UserFactory(), BookFactory()
    lists = builtin(user)
    services.list_add_book(reading_list=lists["reading"], book=book)
    services.list_add_book(reading_list=lists["read"], book=book)
    assert list(
        ListItem.objects.filter(owner=user, book=book).values_list("status", flat=True)
    ) == ["read"]
    assert [e["status"] for e in events("ReadingStatusChanged")] == ["read"]


def test_setting_the_same_status_again_changes_nothing():
    user, book = UserFactory(), BookFactory()
    services.status_set(user=user, book=book, status="read")
    _item, changed = services.status_set(user=user, book=book, status="read")
    assert not changed
    assert len(events("BookAddedToList")) == 1 and events("ReadingStatusChanged") == []


def test_clearing_the_status_publishes_book_removed():
    user, book = UserFactory(), BookFactory()
    item, _ = services.status_set(user=user, book=book, status="read")
    services.status_set(user=user, book=book, status=None)
    (data,) = events("BookRemovedFromList")
    assert data["item_id"] == item.pk and data["list_kind"] == "read"
    assert not ListItem.objects.filter(owner=user, book=book).exists()


def test_status_and_favourites_and_custom_lists_sit_side_by_side():
    user, book = UserFactory(), BookFactory()
    services.status_set(user=user, book=book, status="read")
    services.list_add_book(reading_list=builtin(user)["favourites"], book=book)
    services.list_add_book(reading_list=CustomListFactory(owner=user), book=book)
    assert ListItem.objects.filter(owner=user, book=book).count() == 3


def test_the_database_refuses_a_second_status_for_one_book():
    user, book = UserFactory(), BookFactory()
    lists = builtin(user)
    services.status_set(user=user, book=book, status="read")
    with pytest.raises(IntegrityError), transaction.atomic():
        ListItem.objects.create(
            list=lists["reading"], book=book, owner=user, status="reading", added_at=timezone.now()
        )


def test_the_database_refuses_a_book_twice_on_one_list():
    shelf = CustomListFactory()
    book = BookFactory()
    services.list_add_book(reading_list=shelf, book=book)
    with pytest.raises(IntegrityError), transaction.atomic():
        ListItem.objects.create(list=shelf, book=book, owner=shelf.owner, added_at=timezone.now())


def test_removing_publishes_book_removed_once():
    shelf = CustomListFactory()
    book = BookFactory()
    services.list_add_book(reading_list=shelf, book=book)
    assert services.list_remove_book(reading_list=shelf, book=book)
    assert not services.list_remove_book(reading_list=shelf, book=book)
    assert len(events("BookRemovedFromList")) == 1


def test_deleting_a_custom_list_removes_each_item_with_its_event():
    shelf = CustomListFactory()
    for book in BookFactory.create_batch(3):
        services.list_add_book(reading_list=shelf, book=book)
    services.list_delete(reading_list=shelf)
    assert len(events("BookRemovedFromList")) == 3
    assert not ReadingList.objects.filter(pk=shelf.pk).exists()


def test_builtin_lists_cannot_be_deleted_or_renamed():
    user = UserFactory()
    reading = builtin(user)["reading"]
    with pytest.raises(ValidationError):
        services.list_delete(reading_list=reading)
    services.list_update(reading_list=reading, name="Renamed", description="Now", is_public=False)
    reading.refresh_from_db()
    assert reading.name == "Reading" and not reading.is_public and reading.description == "Now"


def test_list_names_are_unique_per_member_ignoring_case():
    user = UserFactory()
    services.list_create(owner=user, name="Sci-fi")
    with pytest.raises(ValidationError, match="already have"):
        services.list_create(owner=user, name="  sci-FI ")
    with pytest.raises(ValidationError):
        services.list_create(owner=user, name="   ")
    services.list_create(owner=UserFactory(), name="Sci-fi")


def order(shelf):
    return list(
        ListItem.objects.filter(list=shelf)
        .order_by("position", "id")
        .values_list("book__title", flat=True)
    )


def test_move_up_and_down_and_reorder():
    shelf = CustomListFactory()
    items = [
        services.list_add_book(reading_list=shelf, book=BookFactory(title=t))[0] for t in "ABC"
    ]
    assert order(shelf) == ["A", "B", "C"]
    services.item_move(item=items[2], direction="up")
    assert order(shelf) == ["A", "C", "B"]
    assert not services.item_move(item=ListItem.objects.get(pk=items[0].pk), direction="up")
    services.item_move(item=ListItem.objects.get(pk=items[0].pk), direction="down")
    assert order(shelf) == ["C", "A", "B"]
    # new items (same END position) keep their order: B moves down past D, not up
    d, _ = services.list_add_book(reading_list=shelf, book=BookFactory(title="D"))
    e, _ = services.list_add_book(reading_list=shelf, book=BookFactory(title="E"))
    services.item_move(item=ListItem.objects.get(pk=d.pk), direction="down")
    assert order(shelf) == ["C", "A", "B", "E", "D"]
    services.item_move(item=ListItem.objects.get(pk=d.pk), direction="up")
    assert order(shelf) == ["C", "A", "B", "D", "E"]
    services.list_remove_book(reading_list=shelf, book=d.book)
    services.list_remove_book(reading_list=shelf, book=e.book)
    services.list_reorder(reading_list=shelf, item_ids=[items[1].pk, items[0].pk, items[2].pk])
    assert order(shelf) == ["B", "A", "C"]
    with pytest.raises(ValidationError):
        services.list_reorder(reading_list=shelf, item_ids=[items[0].pk, 999999])
    # moving publishes nothing: positions are not events
    assert events("ReadingStatusChanged") == [] and len(events("BookAddedToList")) == 5


def test_note_change_publishes_nothing_and_is_trimmed():
    shelf = CustomListFactory()
    item, _ = services.list_add_book(reading_list=shelf, book=BookFactory())
    services.item_set_note(item=item, note="x" * 400)
    item.refresh_from_db()
    assert len(item.note) == 280
    assert len(events("BookAddedToList")) == 1
    assert item.list.kind == ListKind.CUSTOM


def test_deleting_a_member_removes_their_items_with_events():
    user = UserFactory()
    services.status_set(user=user, book=BookFactory(), status="read")
    services.list_add_book(reading_list=CustomListFactory(owner=user), book=BookFactory())
    user.delete()
    assert {e["list_kind"] for e in events("BookRemovedFromList")} == {"read", "custom"}
    assert not ListItem.objects.exists()


def test_viewer_lists_and_memberships_are_the_members_lists_and_what_they_hold():
    from lists import selectors

    member, other = UserFactory(), UserFactory()
    zebra = CustomListFactory(owner=member, name="zebra reads")
    apple = CustomListFactory(owner=member, name="Apple pie", is_public=False)
    CustomListFactory(owner=other, name="Not mine")
    on_two, on_none, elsewhere = BookFactory(), BookFactory(), BookFactory()
    services.list_add_book(reading_list=zebra, book=on_two)
    services.status_set(user=member, book=on_two, status="reading")
    services.list_add_book(reading_list=apple, book=elsewhere)
    services.list_add_book(
        reading_list=ReadingList.objects.get(owner=other, kind=ListKind.FAVOURITES), book=on_two
    )

    lists, found = selectors.viewer_lists_and_memberships(
        user=member, book_ids={on_two.pk, on_none.pk}
    )
    assert {rl.pk for rl in lists} == set(
        ReadingList.objects.filter(owner=member).values_list("pk", flat=True)
    )
    assert [rl.kind for rl in lists][:4] == ["want_to_read", "reading", "read", "favourites"]
    assert [rl.name for rl in lists][-2:] == ["Apple pie", "zebra reads"]  # built-ins first
    assert found == selectors.memberships(user=member, book_ids={on_two.pk, on_none.pk})
    reading = ReadingList.objects.get(owner=member, kind=ListKind.READING)
    assert found == {on_two.pk: {zebra.pk, reading.pk}, on_none.pk: set()}
    # no books asked about: the lists alone
    lists, found = selectors.viewer_lists_and_memberships(user=member, book_ids=set())
    assert (len(lists), found) == (6, {})
