import dataclasses

import pytest

from bookshare.eventbus.schema import EventSchemaError, event_class, load_event
from bookshare.eventbus.tests.testapp.events import Pinged, RenamedV1, RenamedV2


def test_event_is_frozen():
    e = Pinged(key="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.key = "b"


def test_fields_are_keyword_only():
    with pytest.raises(TypeError):
        Pinged("a")


def test_wrong_type_is_rejected_with_the_field_named():
    with pytest.raises(EventSchemaError, match="'key' expects str"):
        Pinged(key=5)


def test_bool_is_not_accepted_as_int():
    from bookshare.eventbus.tests.testapp.events import WidgetCreated

    with pytest.raises(EventSchemaError):
        WidgetCreated(widget_id=True, name="x")


def test_unknown_field_in_payload_raises():
    with pytest.raises(EventSchemaError, match="unknown field"):
        Pinged.from_data({"key": "a", "sneaky": 1})


def test_missing_field_in_payload_raises():
    with pytest.raises(EventSchemaError, match="missing field"):
        Pinged.from_data({"sleep": 1.0})


def test_optional_field_takes_none_and_default():
    assert Pinged.from_data({"key": "a"}).marker is None
    assert Pinged.from_data({"key": "a", "marker": None, "sleep": 2}).sleep == 2


def test_round_trip_is_lossless():
    e = Pinged(key="a", sleep=0.5, marker="/tmp/x")
    assert Pinged.from_data(e.to_data()) == e


def test_latest_version_is_the_default_class():
    assert event_class("test.Renamed") is RenamedV2
    assert event_class("test.Renamed", 1) is RenamedV1


def test_old_version_is_upcast_for_a_new_consumer():
    loaded = load_event("test.Renamed", 1, {"name": "Ursula Le Guin"}, target=RenamedV2)
    assert loaded == RenamedV2(first_name="Ursula", last_name="Le Guin")


def test_newer_event_than_consumer_is_an_error():
    with pytest.raises(EventSchemaError, match="newer"):
        load_event("test.Renamed", 2, {"first_name": "a", "last_name": "b"}, target=RenamedV1)


def test_unknown_event_type_is_an_error():
    with pytest.raises(EventSchemaError, match="unknown event type"):
        event_class("NoSuchThing")
