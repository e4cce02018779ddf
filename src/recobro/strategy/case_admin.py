"""The case page gets a strategy panel, from the strategy side.

The portfolio app (a lower layer) registers the Case admin and knows nothing of strategies;
here the registration is replaced by a subclass whose change page adds, below the case's
facts, the panel of ``views.case_panel``: where the case stands (stage, segment, strategy,
variant, priority), its stage history, the debtor's holds, recent actions, open tasks, the
explanation of the cycle for a chosen date and the managers' forms. Imported from
``StrategyConfig.ready()``.
"""

from django.contrib import admin

from recobro.portfolio.admin import CaseAdmin
from recobro.portfolio.models import Case
from recobro.strategy import views


class CaseStrategyAdmin(CaseAdmin):
    change_form_outer_after_template = "strategy/case_panel.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            context["strategy_panel"] = views.case_panel(request, obj)
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )


if admin.site.is_registered(Case):
    admin.site.unregister(Case)
admin.site.register(Case, CaseStrategyAdmin)
