"""Celery application. Eager (in-process) in the embedded default; Redis when configured."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recobro.settings")

app = Celery("recobro")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
