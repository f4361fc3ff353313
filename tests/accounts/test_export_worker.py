"""The export built by a real Celery worker on PostgreSQL and Redis: requested on the page,
sent after commit, built and announced by the worker, downloaded by its owner."""

import io
import json
import zipfile

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import DataExport
from marketplace import celery_app
from notifications.models import Notification
from tests.workers import remove_redis_traces, running_worker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

QUEUE = "default"


@pytest.fixture
def worker(require_redis, require_postgresql, tmp_path):
    remove_redis_traces(settings.REDIS_URL, QUEUE)
    # The worker writes the zip where this test reads it: the test's private storage.
    env = {"PLURAL_PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    with running_worker(queues=[QUEUE], hostname="exporter", log_path=tmp_path / "exporter.log", env=env) as process:
        yield process
    remove_redis_traces(settings.REDIS_URL, QUEUE)


def test_the_worker_builds_the_export_and_tells_its_owner(worker, buyer):
    assert not celery_app.conf.task_always_eager, "the task must go through Redis to the worker"
    client = Client()
    client.force_login(buyer)

    assert client.post(reverse("accounts:export_request")).status_code == 302

    export = worker.wait_for(
        "the worker never built the export",
        lambda: DataExport.objects.filter(user=buyer, status=DataExport.Status.READY).first(),
    )
    assert Notification.objects.filter(recipient=buyer, kind="export.ready").count() == 1
    response = client.get(export.get_absolute_url())
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("data.json"))["sections"]["profile"]["username"] == buyer.username
    assert "accounts.tasks.build_export" in worker.log()
