"""Covers are fetched from addresses that members and providers give us: the address
guard (catalogue/providers/http.py) resolves the host once, refuses anything but public
addresses, connects to the address it checked, checks every redirect the same way, reads
only images and only so much.

The stand-in server listens on 127.0.0.1, so these tests give names to addresses with a
fake resolver; CATALOGUE_COVER_ALLOW_PRIVATE (loopback only, for the stand-ins) is off
where the guard itself is tested."""

import httpx
import pytest

from catalogue import jobs
from catalogue.providers import http

pytestmark = pytest.mark.django_db(transaction=True)  # fetching refuses to run in one


class Names(dict):
    def __init__(self):
        super().__init__()
        self.calls: dict[str, int] = {}


@pytest.fixture
def names(monkeypatch):
    """host → addresses the fake resolver answers (a list per call, the last repeating);
    `calls` counts lookups per host."""
    table = Names()
    calls = table.calls

    def resolve(host, port):
        calls[host] = calls.get(host, 0) + 1
        answers = table[host]
        return answers[min(calls[host], len(answers)) - 1]

    monkeypatch.setattr(http, "resolve", resolve)
    return table


@pytest.fixture
def no_connection(monkeypatch):
    """Any attempt to send a request fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a request was sent")

    monkeypatch.setattr(httpx.Client, "send", refuse)


def cover_url(fake, host: str, name: str = "cover.jpg") -> str:
    return f"http://{host}:{fake.port}/images/{name}"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "224.0.0.1",  # multicast
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
    ],
)
def test_a_host_resolving_inside_our_network_is_refused_without_a_request(
    fake, settings, names, no_connection, address
):
    settings.CATALOGUE_COVER_ALLOW_PRIVATE = False
    names["covers.example"] = [[address]]
    cover, note = jobs.fetch_cover(cover_url(fake, "covers.example"))
    assert cover is None and note == "The cover address is not a public web address."
    assert fake.hits == []


def test_one_inside_address_among_public_ones_is_enough_to_refuse(
    fake, settings, names, no_connection
):
    settings.CATALOGUE_COVER_ALLOW_PRIVATE = False
    names["covers.example"] = [["93.184.216.34", "10.0.0.7"]]
    assert jobs.fetch_cover(cover_url(fake, "covers.example"))[0] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.jpg",
        "http://[::1]/x.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/x.jpg",  # 127.0.0.1 as one number
        "file:///etc/passwd",
        "ftp://covers.example/x.jpg",
        "http://user:pw@covers.example/x.jpg",
    ],
)
def test_literal_inside_addresses_and_other_schemes_are_refused(
    fake, settings, names, no_connection, url
):
    settings.CATALOGUE_COVER_ALLOW_PRIVATE = False
    names["covers.example"] = [["93.184.216.34"]]
    names["2130706433"] = [["127.0.0.1"]]
    cover, note = jobs.fetch_cover(url)
    assert cover is None and note == "The cover address is not a public web address."


def test_loopback_for_the_stand_ins_still_refuses_private_and_link_local(
    fake, names, no_connection
):
    assert http.address_allowed("127.0.0.1")  # the fixture's setting: stand-ins on loopback
    for address in ("10.0.0.1", "169.254.169.254", "192.168.0.1", "fd00::1"):
        assert not http.address_allowed(address)


def test_the_connection_goes_to_the_address_that_was_checked(fake, names):
    """DNS rebinding: the name answers 127.0.0.1 (allowed here) once, then an address
    inside the network. One lookup, and the request went to the checked address with the
    name in its Host header (cover.test has no real DNS entry at all)."""
    names["cover.test"] = [["127.0.0.1"], ["10.0.0.1"]]
    cover, note = jobs.fetch_cover(cover_url(fake, "cover.test"))
    assert cover is not None and note == ""
    assert names.calls == {"cover.test": 1}
    assert fake.hits_for("images") == ["/images/cover.jpg"]
    assert fake.requests[0][1]["Host"] == f"cover.test:{fake.port}"


def test_a_redirect_is_followed_only_through_the_same_check(fake, names):
    names["cover.test"] = [["127.0.0.1"]]
    names["inside.test"] = [["10.0.0.1"]]
    ok = cover_url(fake, "cover.test", "redirect.jpg")  # to cover.jpg on the same server
    assert jobs.fetch_cover(ok)[0] is not None
    assert fake.hits_for("images") == ["/images/redirect.jpg", "/images/cover.jpg"]
    fake.reset()
    for target in ("http://169.254.169.254/latest/meta-data/", "http://inside.test/x.jpg"):
        bad = cover_url(fake, "cover.test", f"redirect?to={target}")
        cover, note = jobs.fetch_cover(bad)
        assert cover is None and note == "The cover address is not a public web address."
    assert len(fake.hits_for("images")) == 2  # the redirects themselves, nothing after


def test_only_images_are_read_and_only_so_much(fake, names, settings):
    names["cover.test"] = [["127.0.0.1"]]
    cover, note = jobs.fetch_cover(cover_url(fake, "cover.test", "page.html"))
    assert cover is None and note == "There is no image at the cover address."
    settings.BOOKS_COVER_MAX_BYTES = 200  # the sample cover is larger
    cover, note = jobs.fetch_cover(cover_url(fake, "cover.test"))
    assert cover is None and "gave an answer we could not read" in note


def test_refused_addresses_do_not_open_the_hosts_circuit_breaker(fake, settings, names):
    settings.CATALOGUE_COVER_ALLOW_PRIVATE = False
    names["covers.example"] = [["10.0.0.1"]]
    for _ in range(5):
        jobs.fetch_cover(cover_url(fake, "covers.example"))
    assert not http.CircuitBreaker("covers:covers.example").is_open()
