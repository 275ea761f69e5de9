from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, render


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def register(request):
    return render(request, "accounts/register.html")


def profile(request, username):
    member = get_object_or_404(get_user_model(), username__iexact=username, is_active=True)
    return render(request, "accounts/profile.html", {"member": member})


def verify(request):
    return render(request, "accounts/verify.html")
