import pytest
from kombu import pools

from marketplace import celery_app
from tests.mailserver import free_port


def _reset_producer_pool() -> None:
    """Forget open broker connections, so that the next task is sent with the current settings."""
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_at():
    """Point this process's Celery producer at a broker URL; tasks are then really sent."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager

    def point(url: str) -> None:
        celery_app.conf.broker_url = url
        celery_app.conf.task_always_eager = False
        _reset_producer_pool()

    yield point
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
    _reset_producer_pool()


@pytest.fixture
def redis_stopped_broker(broker_at):
    """The broker is unreachable: nothing listens on its port."""
    broker_at(f"redis://127.0.0.1:{free_port()}/0")
