"""Pages for asking for a copy and handing it over. Every write is a POST through a
service; a refused transition comes back as a message on the page, never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import verified_required
from books.models import BookPost
from books.views import paginate

from . import selectors, services
from .forms import DeclineForm, HandOverForm, MessageForm, RequestForm
from .services import ExchangeError


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return "Please check the form."


@verified_required
@require_http_methods(["GET", "POST"])
def request_create(request, pk: int):
    post = get_object_or_404(BookPost.objects.select_related("book", "owner"), pk=pk)
    swap_choices = (
        list(selectors.swap_candidates(user=request.user))
        if post.offer == BookPost.Offer.SWAP
        else None
    )
    form = RequestForm(
        request.POST if request.method == "POST" else None, swap_choices=swap_choices
    )
    if request.method == "POST" and form.is_valid():
        offered = None
        offered_id = form.cleaned_data.get("offered_post")
        if offered_id:
            offered = BookPost.objects.filter(pk=offered_id).first()
        try:
            req = services.request_create(
                requester=request.user,
                post=post,
                message=form.cleaned_data["message"],
                offered_post=offered,
            )
        except ExchangeError as error:
            messages.error(request, str(error))
            return redirect(post.get_absolute_url())
        messages.success(request, f"Your request was sent to {post.owner.username}.")
        return redirect(req.get_absolute_url())
    return render(request, "exchanges/request_form.html", {"post": post, "form": form})


@verified_required
def post_requests(request, pk: int):
    """The owner's view of a post's requests, with accept and decline."""
    post = get_object_or_404(BookPost.objects.select_related("book", "owner"), pk=pk)
    if post.owner_id != request.user.pk and not request.user.is_staff:
        raise Http404("No such post.")
    return render(
        request,
        "exchanges/post_requests.html",
        {
            "post": post,
            "requests": selectors.requests_for_post(post=post),
            "decline_form": DeclineForm(),
        },
    )


@verified_required
def request_detail(request, pk: int):
    req = selectors.request_for_viewer(pk=pk, user=request.user)
    if req is None:
        raise Http404("No such request.")
    return render(request, "exchanges/request_detail.html", _detail_context(request, req))


def _detail_context(request, req, **forms):
    user = request.user
    is_owner = user.pk == req.owner_id
    is_requester = user.pk == req.requester_id
    state = req.State
    return {
        "req": req,
        "thread": selectors.request_messages(req=req),
        "is_owner": is_owner,
        "is_requester": is_requester,
        "can_accept": is_owner and req.state == state.OPEN,
        "can_decline": is_owner and req.state == state.OPEN,
        "can_cancel": is_requester and req.state in (state.OPEN, state.ACCEPTED),
        "can_hand_over": is_owner and req.state == state.ACCEPTED,
        "can_confirm_received": is_requester and req.state == state.HANDED_OVER,
        "can_confirm_returned": is_owner and req.state == state.ON_LOAN,
        "can_write": is_owner or is_requester,
        "is_loan": req.offer == BookPost.Offer.LEND,
        "decline_form": forms.get("decline_form") or DeclineForm(),
        "hand_over_form": forms.get("hand_over_form") or HandOverForm(),
        "message_form": forms.get("message_form") or MessageForm(),
    }


ACTIONS = {
    "accept": ("accepted", "Accepted. The post is now reserved for them."),
    "decline": ("declined", "Declined."),
    "cancel": ("cancelled", "Your request is cancelled."),
    "hand-over": ("handed over", "Marked as handed over."),
    "received": ("received", "Thank you for confirming. Enjoy the book!"),
    "returned": ("returned", "The loan is closed: the post is available again."),
}


@verified_required
@require_POST
def request_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404("No such action.")
    req = selectors.request_for_viewer(pk=pk, user=request.user)
    if req is None:
        raise Http404("No such request.")
    user = request.user
    try:
        if action == "accept":
            services.request_accept(actor=user, request_id=req.pk)
        elif action == "decline":
            form = DeclineForm(request.POST)
            if not form.is_valid():
                raise ExchangeError(_first_error(form))
            services.request_decline(
                actor=user, request_id=req.pk, reason=form.cleaned_data["reason"]
            )
        elif action == "cancel":
            services.request_cancel(actor=user, request_id=req.pk)
        elif action == "hand-over":
            form = HandOverForm(request.POST)
            if not form.is_valid():
                raise ExchangeError(_first_error(form))
            services.request_hand_over(
                actor=user, request_id=req.pk, due_date=form.cleaned_data["due_date"]
            )
        elif action == "received":
            services.request_confirm_received(actor=user, request_id=req.pk)
        elif action == "returned":
            services.loan_confirm_returned(actor=user, request_id=req.pk)
    except ExchangeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, ACTIONS[action][1])
    next_url = request.POST.get("next", "")
    if next_url == "post" and req.post_id:
        return redirect("exchanges:post_requests", pk=req.post_id)
    return redirect(req.get_absolute_url())


@verified_required
@require_POST
def request_message(request, pk: int):
    req = selectors.request_for_viewer(pk=pk, user=request.user)
    if req is None:
        raise Http404("No such request.")
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.request_message_post(
                author=request.user, request_id=req.pk, body=form.cleaned_data["body"]
            )
        except ExchangeError as error:
            messages.error(request, str(error))
            return redirect(req.get_absolute_url())
        messages.success(request, "Message sent.")
        return redirect(req.get_absolute_url() + "#thread")
    context = _detail_context(request, req, message_form=form)
    return render(request, "exchanges/request_detail.html", context, status=400)


@verified_required
def my_requests(request):
    return render(
        request,
        "exchanges/request_list.html",
        {
            "page_obj": paginate(request, selectors.requests_made(user=request.user)),
            "heading": "My requests",
            "mine": True,
        },
    )


@verified_required
def incoming_requests(request):
    return render(
        request,
        "exchanges/request_list.html",
        {
            "page_obj": paginate(request, selectors.requests_received(user=request.user)),
            "heading": "Requests for my books",
            "mine": False,
        },
    )
