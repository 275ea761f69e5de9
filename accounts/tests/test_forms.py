import pytest

from accounts.forms import CodeForm, LoginForm, ProfileForm, RegistrationForm

from .factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

GOOD = "a-long-and-unusual-passphrase"


def registration(**overrides):
    data = {"email": "a@example.org", "username": "ann", "password1": GOOD, "password2": GOOD}
    return RegistrationForm(data={**data, **overrides})


def test_a_good_registration_is_valid():
    assert registration().is_valid()


def test_a_taken_email_is_not_a_form_error():
    """Issue 13, item 6 (enumeration): the form no longer says an address has an account;
    the view answers as for a new one and emails the owner instead."""
    VerifiedUserFactory(email="a@example.org")
    assert registration(email="A@EXAMPLE.ORG").is_valid()


def test_a_taken_username_in_another_case_is_a_username_error():
    VerifiedUserFactory(username="Ann")
    assert "taken" in registration().errors["username"][0]


def test_a_short_password_is_refused():
    assert "password1" in registration(password1="short", password2="short").errors


def test_an_all_numeric_password_is_refused():
    assert "password1" in registration(password1="83749261057", password2="83749261057").errors


@pytest.mark.parametrize("username", ["ab", "x" * 31, ".dot", "has space", "a@b", "ünï"])
def test_unsuitable_usernames_are_refused(username):
    assert "username" in registration(username=username).errors


@pytest.mark.parametrize("code", ["123456", "123 456", "123-456", " 123456 "])
def test_code_form_accepts_six_digits_with_spacing(code):
    form = CodeForm(data={"code": code})
    assert form.is_valid()
    assert form.cleaned_data["code"] == "123456"


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567", "x" * 40])
def test_code_form_refuses_anything_else(code):
    assert not CodeForm(data={"code": code}).is_valid()


def test_login_form_accepts_a_long_email_address():
    email = ("a" * 60 + ".") * 3 + "@example.org"
    assert LoginForm(data={"username": email, "password": "x"}).fields["username"].max_length == 254


def test_profile_form_edits_only_bio_and_genres():
    assert list(ProfileForm().fields) == ["bio", "favourite_genres"]
