"""`python manage.py catalogue fake_providers [--port 8001]`: stand-in Open Library,
Google Books and ISBNdb on localhost, for `make run` without the internet.
`python manage.py catalogue breakers [--reset]`: each provider's circuit breaker."""

from django.core.management.base import BaseCommand

from catalogue import providers
from catalogue.fakes import SAMPLES, FakeProviders


class Command(BaseCommand):
    help = "Catalogue tools: fake_providers (local stand-ins), breakers (state, --reset)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["fake_providers", "breakers"])
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--delay", type=float, default=0.0, help="seconds per answer")
        parser.add_argument("--reset", action="store_true")

    def handle(self, *args, action, port, host, delay, reset, **options):
        if action == "breakers":
            for cls in providers.ALL:
                breaker = providers.CircuitBreaker(cls.name)
                if reset:
                    breaker.reset()
                state = "open (skipped)" if breaker.is_open() else "closed"
                on = "on" if cls.configured() else "off"
                self.stdout.write(f"{cls.label:14} {on:4} {state}")
            return
        server = FakeProviders(port=port, host=host)
        if delay:
            server.delay = {name: delay for name in ("openlibrary", "google", "isbndb", "covers")}
        self.stdout.write("Fake providers on " + server.url + "; put these in .env:\n")
        for key, value in server.settings().items():
            self.stdout.write(f"{key}={value}")
        self.stdout.write("CATALOGUE_COVER_ALLOW_PRIVATE=true")
        self.stdout.write("\nISBNs they know: " + ", ".join(SAMPLES))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
