from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("recobro.api")),
    path("", include("recobro.portfolio.urls")),
    path("", include("recobro.strategy.urls")),
    path("", admin.site.urls),
]
