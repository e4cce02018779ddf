"""Back-office pages of the ledger that are not ModelAdmins (URL names ``portfolio-<view>``)."""

from django.urls import path, re_path

from recobro.portfolio import views

urlpatterns = [
    path("imports/new/", views.import_upload, name="portfolio-import-upload"),
    path("imports/<int:pk>/", views.import_detail, name="portfolio-import-detail"),
    path("imports/<int:pk>/errors.csv", views.import_issues_csv, name="portfolio-import-issues-csv"),
    path("reports/aging/", views.aging, name="portfolio-aging"),
    re_path(r"^reports/aging/export/(?P<fmt>xlsx|csv)/$", views.aging_export, name="portfolio-aging-export"),
]
