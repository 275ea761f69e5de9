import pytest
from django.core.exceptions import ValidationError

from books.isbn import looks_like_isbn, to_isbn13


def test_isbn13_with_hyphens_is_accepted():
    assert to_isbn13("978-0-306-40615-7") == "9780306406157"


def test_isbn10_is_converted_to_isbn13():
    assert to_isbn13("0-306-40615-2") == "9780306406157"


def test_isbn10_with_x_check_digit():
    assert to_isbn13("080442957X") == "9780804429573"


def test_isbn_prefix_text_is_ignored():
    assert to_isbn13("ISBN-13: 978-0-306-40615-7") == "9780306406157"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("9780306406158", "check digit should be 7"),
        ("0306406153", "check digit should be 2"),
        ("12345", "10 or 13 digits"),
        ("97803064061X7", "13 digits"),
        ("1234567890123", "978 or 979"),
        ("", "Enter an ISBN"),
    ],
)
def test_invalid_isbns_say_why(value, fragment):
    with pytest.raises(ValidationError) as info:
        to_isbn13(value)
    assert fragment in " ".join(info.value.messages)


def test_looks_like_isbn_only_for_valid_isbns():
    assert looks_like_isbn("0306406152") == "9780306406157"
    assert looks_like_isbn("0306406153") is None
    assert looks_like_isbn("tolkien") is None
