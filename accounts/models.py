from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from bookshare.eventbus import AtomicSaveMixin


class BookShareUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """`manage.py createsuperuser`: whoever runs it owns the address, so staff made
        on the command line are verified and can sign in on the site at once."""
        from django.utils import timezone

        extra_fields.setdefault("email_verified_at", timezone.now())
        return super().create_superuser(username, email, password, **extra_fields)


class User(AtomicSaveMixin, AbstractUser):
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

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", kwargs={"username": self.username})

    def save(self, *args, **kwargs):
        if self.email:
            self.email = self.email.strip()
            local, _, domain = self.email.rpartition("@")
            self.email = f"{local}@{domain.lower()}" if local else self.email
        super().save(*args, **kwargs)


class VerificationCode(models.Model):
    """One emailed one-time code. Only an HMAC of the code is stored, never the code.

    A code is made by the email consumer for one event (`event_id`, unique), so a
    redelivered or replayed event finds its code already sent and sends nothing.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        USED = "used", "used"
        SUPERSEDED = "superseded", "replaced by a newer code"
        LOCKED = "locked", "locked after too many wrong tries"
        EXPIRED = "expired", "expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verification_codes"
    )
    event_id = models.UUIDField(unique=True, help_text="the event that asked for this code")
    requested_at = models.DateTimeField(help_text="when that event occurred")
    email = models.EmailField(max_length=254, help_text="where the code was sent")
    code_hash = models.CharField(max_length=128, editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"], name="vcode_user_status")]

    def __str__(self) -> str:
        return f"code for {self.user_id} ({self.status})"

    def effective_status(self, now) -> str:
        """The status as of `now`: an active code past its expiry counts as expired."""
        if self.status == self.Status.ACTIVE and self.expires_at <= now:
            return self.Status.EXPIRED
        return self.status


class VerificationRecord(models.Model):
    """What happened around verification codes, for the admin. Never holds a code."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "code requested (registration)"
        RESENT = "resent", "new code requested"
        SENT = "sent", "code emailed"
        FAILED = "failed", "wrong code entered"
        LOCKED = "locked", "code locked (too many wrong tries)"
        EXPIRED = "expired", "expired code entered"
        REFUSED = "refused", "code entered with no usable code"
        SUCCEEDED = "succeeded", "address verified"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verification_records"
    )
    code = models.ForeignKey(
        VerificationCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, db_index=True)
    ip = models.GenericIPAddressField("client address", null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "kind", "created_at"], name="vrecord_user_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · user {self.user_id}"


class PasswordResetEmail(models.Model):
    """A password-reset email sent for one event: a replayed event sends no second one."""

    event_id = models.UUIDField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_reset_emails"
    )
    email = models.EmailField(max_length=254)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"password reset for {self.user_id} at {self.sent_at:%Y-%m-%d %H:%M}"


class AccountNoticeEmail(models.Model):
    """A notice emailed to a member for one event (at most once per event), e.g. "someone
    tried to register with your address". Also the count behind per-recipient limits."""

    class Kind(models.TextChoices):
        REGISTER_ATTEMPT = "register", "registration attempted with this address"

    event_id = models.UUIDField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_emails"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    email = models.EmailField(max_length=254)
    # Null when the per-recipient limit held the email back (the event is still used up).
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "kind", "created_at"], name="notice_user_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · user {self.user_id}"
