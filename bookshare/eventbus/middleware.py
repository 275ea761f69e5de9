from django.http import HttpRequest, HttpResponse

from .context import bound, clean_incoming_id, new_id

HEADER = "X-Request-ID"


class CorrelationIdMiddleware:
    """Give each request a correlation id (the caller's X-Request-ID if it is plain).

    The id is bound for the request, so events it publishes and its log lines carry it,
    and it is returned in the X-Request-ID response header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        correlation_id = clean_incoming_id(request.headers.get(HEADER)) or new_id()
        request.correlation_id = correlation_id
        with bound(correlation_id=correlation_id):
            response = self.get_response(request)
        response[HEADER] = correlation_id
        return response
