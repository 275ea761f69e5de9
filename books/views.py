from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from .models import Genre


def home(request):
    genres = Genre.objects.annotate(n=Count("fans")).order_by("name")
    return render(request, "books/home.html", {"genres": genres})


def search(request):
    return render(request, "books/search.html", {"q": request.GET.get("q", "")[:200]})


def post_create(request):
    return render(request, "books/post_form.html")


def genre(request, slug):
    return render(request, "books/genre.html", {"genre": get_object_or_404(Genre, slug=slug)})
