from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class BookShareUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """A member. Email is unique ignoring case and must be verified by a one-time code."""

    email = models.EmailField("email address", max_length=254)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    bio = models.TextField(blank=True, max_length=2000)
    favourite_genres = models.ManyToManyField(
        "books.Genre", blank=True, related_name="fans", verbose_name="favourite genres"
    )

    objects = BookShareUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def save(self, *args, **kwargs):
        if self.email:
            self.email = self.email.strip()
            local, _, domain = self.email.rpartition("@")
            self.email = f"{local}@{domain.lower()}" if local else self.email
        super().save(*args, **kwargs)
