from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data: two organizations with real-looking portfolios (no models of its own)."""

    name = "recobro.demo"
    label = "demo"
    verbose_name = _("Demo data")
