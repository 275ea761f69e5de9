import pytest

from accounts import codes


def test_generated_codes_are_six_digits():
    assert all(codes.code_is_well_formed(codes.code_generate()) for _ in range(200))


def test_generated_codes_vary():
    assert len({codes.code_generate() for _ in range(50)}) > 40


def test_codes_come_from_the_secrets_module(monkeypatch):
    monkeypatch.setattr(codes.secrets, "randbelow", lambda n: 42)
    assert codes.code_generate() == "000042"


@pytest.mark.parametrize(
    ("typed", "expected"), [("123 456", "123456"), (" 123-456 ", "123456"), ("", "")]
)
def test_normalize_drops_spaces_and_dashes(typed, expected):
    assert codes.code_normalize(typed) == expected


@pytest.mark.parametrize("typed", ["12345", "1234567", "12345a", "١٢٣٤٥٦", "12345\n"])
def test_only_six_ascii_digits_are_well_formed(typed):
    assert not codes.code_is_well_formed(typed)


def test_hash_depends_on_the_salt():
    assert codes.code_hash(salt="a", code="123456") != codes.code_hash(salt="b", code="123456")


def test_hash_is_keyed_with_the_secret_key(settings):
    before = codes.code_hash(salt="a", code="123456")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert codes.code_hash(salt="a", code="123456") != before


def test_matching_compares_in_constant_time(monkeypatch):
    calls = []
    real = codes.constant_time_compare

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(codes, "constant_time_compare", spy)
    stored = codes.code_hash(salt="s", code="654321")
    assert codes.code_matches(salt="s", code="654321", stored_hash=stored)
    assert len(calls) == 1
