import pytest
from django.db import IntegrityError

from .factories import UserFactory, VerificationCodeFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


def test_email_domain_is_lowercased_on_save():
    assert UserFactory(email="Mixed.Case@Example.ORG").email == "Mixed.Case@example.org"


def test_email_is_unique_ignoring_case():
    UserFactory(email="reader@example.org")
    with pytest.raises(IntegrityError):
        UserFactory(email="READER@example.org")


def test_username_is_unique_ignoring_case():
    UserFactory(username="Reader")
    with pytest.raises(IntegrityError):
        UserFactory(username="reader")


def test_new_member_is_not_verified():
    assert not UserFactory().is_verified


def test_verified_member_is_verified():
    assert VerifiedUserFactory().is_verified


def test_profile_url():
    assert UserFactory(username="ada").get_absolute_url() == "/u/ada/"


def test_code_row_has_no_plain_code_field():
    code = VerificationCodeFactory(plain="123456")
    values = [str(getattr(code, f.attname)) for f in code._meta.concrete_fields]
    assert not any("123456" in v for v in values)
