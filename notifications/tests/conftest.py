import pytest


def settle(*, skip_queues=("email",)) -> None:
    """Wait until the workers have finished every delivery the test caused, so the
    transactional test's TRUNCATE never races a worker still writing."""
    from bookshare.eventbus.models import Delivery
    from bookshare.testing import wait_until

    wait_until(
        lambda: (
            not Delivery.objects.filter(status__in=Delivery.UNFINISHED)
            .exclude(queue__in=skip_queues)
            .exists()
        ),
        timeout=90,
        message="the workers to finish the test's deliveries",
    )


@pytest.fixture
def settled_bus(bus_worker):
    """The session worker, and a quiet bus when the test ends."""
    yield bus_worker
    settle()
