from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StrategyConfig(AppConfig):
    name = "recobro.strategy"
    label = "strategy"
    verbose_name = _("Strategy")

    def ready(self):
        from recobro.strategy import case_admin  # noqa: F401  the strategy panel of the case page
        from recobro.strategy.schedule import start_embedded_scheduler

        start_embedded_scheduler()  # only in the serving process, without a broker (schedule.py)
