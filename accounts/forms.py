from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm
from django.core.validators import RegexValidator

from .codes import code_is_well_formed, code_normalize
from .models import User
from .services import (
    DUPLICATE_USERNAME,
    password_reset_ask,
    unverified_replaceable,
)

USERNAME_HELP = "3–30 letters, digits, dots, dashes or underscores. Shown on your profile."


class RegistrationForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We'll send a 6-digit code to this address to confirm it.",
    )
    username = forms.CharField(
        min_length=3,
        max_length=30,
        help_text=USERNAME_HELP,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
                "Use only letters, digits, dots, dashes and underscores, starting with a "
                "letter or digit.",
            )
        ],
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self):
        # An address that already has an account is NOT an error here: the view answers
        # as for a new one and the owner gets a notice (no account enumeration).
        return self.cleaned_data["email"].strip()

    def clean_username(self):
        username = self.cleaned_data["username"]
        taken = User.objects.filter(username__iexact=username)
        # An unverified account is replaced by this registration (services.user_register).
        if taken.exclude(pk__in=unverified_replaceable(username=username)).exists():
            raise forms.ValidationError(DUPLICATE_USERNAME)
        return username

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords don't match.")
        elif p2:
            candidate = User(email=cleaned.get("email", ""), username=cleaned.get("username", ""))
            try:
                password_validation.validate_password(p2, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 \-]*",
                "class": "code-input",
            }
        ),
    )

    def clean_code(self):
        code = code_normalize(self.cleaned_data["code"])
        if not code_is_well_formed(code):
            raise forms.ValidationError("Enter the 6 digits from the email, like 123456.")
        return code


class LoginForm(AuthenticationForm):
    """Sign in by email address or username."""

    username = forms.CharField(
        label="Email or username",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email/username and password don't match an account. "
        "Passwords are case-sensitive.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].max_length = 254
        self.fields["username"].widget.attrs["maxlength"] = "254"


class QueuedPasswordResetForm(PasswordResetForm):
    """Password reset whose email is sent by the `email` worker, never in the request."""

    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def save(self, **kwargs):  # noqa: ARG002 - Django passes template and request options
        # No account lookup here: the worker does it, so known and unknown addresses
        # cost the request the same (issue 13, item 6).
        password_reset_ask(email=self.cleaned_data["email"])


class LockoutAwarePasswordChangeForm(PasswordChangeForm):
    """The old-password check counts towards the account's sign-in lockout (django-axes):
    a stolen session cannot be used to guess the password here either."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        from .lockout import is_locked, report_failure

        if self.request is not None and is_locked(self.request, self.user):
            raise forms.ValidationError(
                "Too many wrong passwords for this account: changing the password is paused "
                "for now. Sign out and use “Forgot your password?” to choose a new one.",
                code="locked",
            )
        old_password = self.cleaned_data["old_password"]
        if not self.user.check_password(old_password):
            if self.request is not None:
                report_failure(self.request, self.user)
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["bio", "favourite_genres"]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 6, "maxlength": 2000}),
            "favourite_genres": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "bio": "A few words about you and what you read (up to 2000 characters).",
            "favourite_genres": "Pick any you like to read.",
        }


class ChangeEmailForm(forms.Form):
    """On the verify page: correct a mistyped address before it is confirmed."""

    email = forms.EmailField(
        label="Correct email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
