"""Back-office pages of the strategy app that are not ModelAdmins (URL names ``strategy-<view>``)."""

from django.urls import path

from recobro.strategy import views

urlpatterns = [
    path("cases/<int:pk>/strategy/explain/", views.case_explain, name="strategy-case-explain"),
    path("cases/<int:pk>/strategy/move/", views.case_move_stage, name="strategy-case-move-stage"),
    path("cases/<int:pk>/strategy/hold/", views.case_place_hold, name="strategy-case-place-hold"),
]
