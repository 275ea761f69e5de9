import uuid
from datetime import timedelta

import factory

from accounts import clock
from accounts.codes import code_hash
from accounts.models import User, VerificationCode

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    """An unverified member with the password PASSWORD."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"reader{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class VerifiedUserFactory(UserFactory):
    email_verified_at = factory.LazyFunction(lambda: clock.now())


class VerificationCodeFactory(factory.django.DjangoModelFactory):
    """An active, sent code whose plain value is `plain` (default 123456)."""

    class Meta:
        model = VerificationCode
        exclude = ("plain",)

    plain = "123456"
    user = factory.SubFactory(UserFactory)
    event_id = factory.LazyFunction(uuid.uuid4)
    requested_at = factory.LazyFunction(lambda: clock.now())
    email = factory.LazyAttribute(lambda c: c.user.email)
    code_hash = factory.LazyAttribute(lambda c: code_hash(salt=str(c.event_id), code=c.plain))
    created_at = factory.LazyFunction(lambda: clock.now())
    expires_at = factory.LazyAttribute(lambda c: c.created_at + timedelta(minutes=10))
    sent_at = factory.LazyAttribute(lambda c: c.created_at)
