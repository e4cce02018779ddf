"""Import pages: upload → job page → progress fragment → errors CSV; profiles in the admin."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recobro.portfolio.models import Debtor, ImportIssue, ImportJob, ImportProfile, ImportStatus
from tests.backoffice.conftest import client_for

GOOD = "external_id,name,tax_id_type\nK-1,Karla Núñez,\nK-2,Kevin Ortiz,\n"
BAD = "external_id,name,risk_score\nK-1,Karla Núñez,0.5\nK-2,,0.5\nK-3,Kiko,7\n"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, content: str, name: str = "clientes.csv", **data):
    form = {"kind": "debtors", "file": SimpleUploadedFile(name, content.encode(), "text/csv"), **data}
    return client.post(reverse("portfolio-import-upload"), form)


def test_the_upload_page_lists_the_expected_columns(ana, cast):
    page = ana.get(reverse("portfolio-import-upload")).content.decode()
    assert "external_id *" in page and "due_date *" in page
    assert 'name="skip_invalid"' in page


def test_a_valid_file_is_imported_and_its_page_shows_who_when_and_counts(
    ana, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(ana, GOOD)
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("portfolio-import-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and job.created_count == 2
    assert job.created_by == cast.ana and job.organization == cast.mx
    assert set(Debtor.objects.filter(external_id__startswith="K-").values_list("name", flat=True)) == {
        "Karla Núñez",
        "Kevin Ortiz",
    }
    page = ana.get(response["Location"]).content.decode()
    assert "clientes.csv" in page and 'data-count="created">2<' in page
    assert 'hx-trigger="every' not in page  # finished: no polling
    assert 'id="import-issues"' in page


def test_an_invalid_file_writes_nothing_and_lists_line_column_and_reason(
    ana, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(ana, BAD)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED
    assert not Debtor.objects.filter(external_id__startswith="K-").exists()
    response = ana.get(reverse("portfolio-import-detail", args=[job.pk]))
    issues = list(response.context["issues"])
    assert [(i.line, i.column) for i in issues] == [(3, "name"), (4, "risk_score")]
    page = response.content.decode()
    assert reverse("portfolio-import-issues-csv", args=[job.pk]) in page


def test_skip_invalid_rows_imports_the_valid_ones(ana, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(ana, BAD, skip_invalid="on")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.PARTIAL and job.skip_invalid
    assert list(
        Debtor.objects.filter(external_id__startswith="K-").values_list("external_id", flat=True)
    ) == ["K-1"]


def test_the_errors_download_as_a_csv_to_fix_and_upload_again(ana, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(ana, BAD)
    job = ImportJob.objects.get()
    response = ana.get(reverse("portfolio-import-issues-csv", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="clientes-errors.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    text = "\n".join(",".join(r) for r in rows)
    assert "K-2" in text and "K-3" in text and "K-1" not in text


def test_the_progress_fragment_polls_while_running_and_stops_when_finished(ana, cast):
    job = ImportJob.objects.create(
        organization=cast.mx,
        kind="debtors",
        file_name="grande.csv",
        status=ImportStatus.RUNNING,
        total_rows=200,
        processed_rows=50,
        created_by=cast.ana,
    )
    url = reverse("portfolio-import-detail", args=[job.pk])
    page = ana.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'id="import-issues"' not in page
    fragment = ana.get(url, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body
    assert 'hx-trigger="every 1s"' in body and "width: 25%" in body
    assert "HX-Refresh" not in fragment
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, processed_rows=200)
    done = ana.get(url, HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in done.content.decode() and "width: 100%" in done.content.decode()
    assert done["HX-Refresh"] == "true"  # the page reloads once to show the results


def test_the_issues_table_is_paginated(ana, cast):
    job = ImportJob.objects.create(organization=cast.mx, kind="debtors", file_name="x.csv", status="rejected")
    ImportIssue.objects.bulk_create(
        ImportIssue(job=job, line=n + 2, column="name", code="required", message="Falta el nombre")
        for n in range(60)
    )
    url = reverse("portfolio-import-detail", args=[job.pk])
    assert len(ana.get(url).context["issues"]) == 50
    second = ana.get(url, {"page": 2})
    assert [i.line for i in second.context["issues"]] == list(range(52, 62))


def test_documents_need_a_portfolio_and_a_profile_of_their_kind(ana, cast):
    profile = ImportProfile.objects.create(organization=cast.mx, name="SAP", kind="debtors")
    response = upload(ana, "x", name="docs.csv", kind="documents", profile=profile.pk)
    errors = response.context["form"].errors
    assert "portfolio" in errors and "profile" in errors
    assert not ImportJob.objects.exists()


def test_only_csv_and_xlsx_files_are_accepted(ana, cast):
    response = upload(ana, GOOD, name="clientes.pdf")
    assert "file" in response.context["form"].errors


def test_collectors_and_auditors_cannot_import(cast, auditor):
    assert client_for(cast.carlos).get(reverse("portfolio-import-upload")).status_code == 403
    assert upload(auditor, GOOD).status_code == 403
    assert not ImportJob.objects.exists()


def test_a_job_of_another_organization_or_portfolio_is_not_found(cast):
    co_job = ImportJob.objects.create(organization=cast.co, kind="debtors", file_name="co.csv")
    retail_job = ImportJob.objects.create(
        organization=cast.mx, kind="documents", portfolio=cast.retail, file_name="retail.csv"
    )
    ana = client_for(cast.ana)
    assert ana.get(reverse("portfolio-import-detail", args=[co_job.pk])).status_code == 404
    assert ana.get(reverse("portfolio-import-issues-csv", args=[co_job.pk])).status_code == 404
    diana = client_for(cast.diana)
    assert diana.get(reverse("portfolio-import-detail", args=[retail_job.pk])).status_code == 404
    assert (
        client_for(cast.carlos).get(reverse("portfolio-import-detail", args=[retail_job.pk])).status_code
        == 200
    )


def test_the_import_history_links_each_job_to_its_page(ana, cast):
    job = ImportJob.objects.create(organization=cast.mx, kind="debtors", file_name="hist.csv")
    page = ana.get(reverse("admin:portfolio_importjob_changelist")).content.decode()
    assert reverse("portfolio-import-detail", args=[job.pk]) in page
    response = ana.get(reverse("admin:portfolio_importjob_change", args=[job.pk]))
    assert response["Location"] == reverse("portfolio-import-detail", args=[job.pk])


def test_a_profile_maps_erp_headers_and_the_import_uses_it(ana, cast, django_capture_on_commit_callbacks):
    response = ana.post(
        reverse("admin:portfolio_importprofile_add"),
        {
            "name": "ERP Norte",
            "kind": "debtors",
            "delimiter": ";",
            "encoding": "utf-8",
            "number_format": "comma",
            "date_format": "dmy",
            "map_debtors-external_id": "Num Cliente",
            "map_debtors-name": "Nombre del titular",
            "map_debtors-ignore": "Vendedor, Zona",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile = ImportProfile.objects.get(name="ERP Norte")
    assert profile.organization == cast.mx
    assert profile.column_map == {
        "external_id": "Num Cliente",
        "name": "Nombre del titular",
        "ignore": ["Vendedor", "Zona"],
    }
    page = ana.get(reverse("admin:portfolio_importprofile_change", args=[profile.pk])).content.decode()
    assert 'name="map_debtors-external_id" value="Num Cliente"' in page
    content = "Num Cliente;Nombre del titular;Vendedor;Zona\nE-9;Elsa Pinto;Ruiz;Norte\n"
    with django_capture_on_commit_callbacks(execute=True):
        upload(ana, content, profile=profile.pk)
    assert ImportJob.objects.get().status == ImportStatus.SUCCEEDED
    assert Debtor.objects.get(external_id="E-9").name == "Elsa Pinto"


def test_a_header_mapped_to_two_fields_is_refused(ana, cast):
    response = ana.post(
        reverse("admin:portfolio_importprofile_add"),
        {
            "name": "Mal",
            "kind": "debtors",
            "delimiter": ",",
            "encoding": "utf-8",
            "number_format": "dot",
            "date_format": "iso",
            "map_debtors-external_id": "Cliente",
            "map_debtors-name": "cliente",
        },
    )
    assert response.status_code == 200
    assert "map_debtors" in response.context["adminform"].form.errors
