from celery import shared_task

from .delivery import run_deliveries, run_delivery
from .operations import cleanup, relay_once


@shared_task(name="eventbus.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    """Run one delivery. Safe to receive any number of times."""
    return run_delivery(delivery_id)


@shared_task(name="eventbus.deliver_many", acks_late=True, ignore_result=True)
def deliver_many(delivery_ids: list[int]) -> dict:
    """Run deliveries of one batching consumer published in one transaction (bounded by
    its batch_size). Safe to receive any number of times."""
    return run_deliveries(delivery_ids)


@shared_task(name="eventbus.relay", ignore_result=True, expires=30)
def relay() -> int:
    return relay_once()


@shared_task(name="eventbus.cleanup", ignore_result=True)
def cleanup_events() -> int:
    return cleanup()


@shared_task(name="eventbus.noop", acks_late=True, ignore_result=True)
def noop() -> None:
    """Does nothing: the baseline in bench/events.py and a broker smoke test."""
