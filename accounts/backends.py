from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailOrUsernameBackend(ModelBackend):
    """Sign in with either the email address or the username, ignoring case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        field = "email__iexact" if "@" in username else "username__iexact"
        user = User._default_manager.filter(**{field: username.strip()}).first()
        if user is None:
            User().set_password(password)  # equal time whether or not the user exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS: refuses a locked-out account
    or address before any password is checked (see accounts/lockout.py). It can also load
    a session's user, so code that takes the first backend for a session still works."""

    def get_user(self, user_id):
        return EmailOrUsernameBackend().get_user(user_id)
