from recobro.core.models import AuditEntry
from recobro.portfolio.models import ContactPoint, Debtor
from tests.api.conftest import error_of


def add_contact(cast, debtor, kind: str, value: str) -> ContactPoint:
    return ContactPoint.objects.create(
        organization=cast.mx, debtor=debtor, kind=kind, value=value, normalized=value.replace(" ", "")
    )


def test_get_a_contact_point_names_its_debtor(cast, api_read):
    contact = add_contact(cast, cast.eva, "mobile", "+52 55 1234 5678")
    body = api_read.get(f"/api/v1/contact-points/{contact.pk}").json()
    assert body["debtor_external_id"] == "C-1001"
    assert (body["kind"], body["value"], body["normalized"]) == (
        "mobile",
        "+52 55 1234 5678",
        "+525512345678",
    )
    assert body["opted_out_at"] is None


def test_list_contact_points_filters_by_debtor_and_kind(cast, api_read):
    other = Debtor.objects.create(organization=cast.mx, external_id="C-1002", name="Óscar Ruiz")
    eva_mail = add_contact(cast, cast.eva, "email", "eva@example.com")
    add_contact(cast, cast.eva, "mobile", "+525512345678")
    add_contact(cast, other, "email", "oscar@example.com")
    body = api_read.get("/api/v1/contact-points", {"debtor_external_id": "C-1001", "kind": "email"}).json()
    assert [c["id"] for c in body["items"]] == [eva_mail.pk]


def test_an_unknown_kind_filter_is_a_422_naming_the_field(api_read):
    response = api_read.get("/api/v1/contact-points", {"kind": "pigeon"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "kind"


def test_listing_contact_points_does_not_query_per_row(cast, api_read, django_assert_max_num_queries):
    api_read.get("/api/v1/me")
    debtors = Debtor.objects.bulk_create(
        Debtor(organization=cast.mx, external_id=f"Q-{n}", name=f"Deudor {n}") for n in range(60)
    )
    ContactPoint.objects.bulk_create(
        ContactPoint(
            organization=cast.mx,
            debtor=d,
            kind="email",
            value=f"{d.external_id}@example.com",
            normalized=f"{d.external_id}@example.com",
        )
        for d in debtors
    )
    with django_assert_max_num_queries(2):
        body = api_read.get("/api/v1/contact-points", {"limit": 500}).json()
    assert len(body["items"]) == 60
    assert {c["debtor_external_id"] for c in body["items"]} == {d.external_id for d in debtors}


# --- POST /contact-points and bulk -------------------------------------------


def test_post_creates_a_contact_point_normalised_to_e164_then_finds_it_again(cast, keys, api):
    row = {"debtor_external_id": "C-1001", "kind": "mobile", "value": "55 1234 5678", "is_primary": True}
    response = api.post("/api/v1/contact-points", row)
    assert response.status_code == 201
    body = response.json()
    assert (body["normalized"], body["is_primary"], body["debtor_external_id"]) == (
        "+525512345678",
        True,
        "C-1001",
    )
    entry = AuditEntry.objects.get(object_type="portfolio.contactpoint", object_id=str(body["id"]))
    assert (entry.action, entry.api_key) == ("create", keys.mx_write)

    again = api.post("/api/v1/contact-points", row)
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert ContactPoint.objects.count() == 1


def test_the_same_number_as_mobile_and_whatsapp_is_two_contact_points(cast, api):
    mobile = api.post(
        "/api/v1/contact-points", {"debtor_external_id": "C-1001", "kind": "mobile", "value": "5512345678"}
    )
    whatsapp = api.post(
        "/api/v1/contact-points", {"debtor_external_id": "C-1001", "kind": "whatsapp", "value": "5512345678"}
    )
    assert (mobile.status_code, whatsapp.status_code) == (201, 201)
    assert mobile.json()["id"] != whatsapp.json()["id"]
    assert whatsapp.json()["kind"] == "whatsapp"


def test_post_rejects_a_bad_phone_and_an_unknown_debtor(api):
    response = api.post(
        "/api/v1/contact-points", {"debtor_external_id": "C-1001", "kind": "mobile", "value": "12"}
    )
    assert response.status_code == 422
    assert error_of(response)["field"] == "value"
    response = api.post(
        "/api/v1/contact-points", {"debtor_external_id": "NOPE", "kind": "email", "value": "a@b.mx"}
    )
    assert response.status_code == 422
    assert (error_of(response)["field"], error_of(response)["details"][0]["code"]) == (
        "debtor_external_id",
        "unknown_debtor",
    )
    assert not ContactPoint.objects.exists()


def test_bulk_contact_points(cast, api):
    rows = [
        {"debtor_external_id": "C-1001", "kind": "email", "value": "Eva.Martinez@Example.com"},
        {"debtor_external_id": "C-1001", "kind": "celular", "value": "+52 55 8765 4321"},
    ]
    response = api.post("/api/v1/bulk/contact-points", {"rows": rows})
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "invalid": 0, "errors": []}
    assert set(ContactPoint.objects.values_list("kind", "normalized")) == {
        ("email", "eva.martinez@example.com"),
        ("mobile", "+525587654321"),
    }
    assert api.post("/api/v1/bulk/contact-points", {"rows": rows}).json()["unchanged"] == 2


def test_the_same_number_written_differently_is_the_same_contact_point(cast, api):
    first = api.post(
        "/api/v1/contact-points", {"debtor_external_id": "C-1001", "kind": "mobile", "value": "5512345678"}
    )
    again = api.post(
        "/api/v1/contact-points",
        {"debtor_external_id": "C-1001", "kind": "mobile", "value": "+52 55 1234 5678"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["normalized"] == "+525512345678"
    assert ContactPoint.objects.count() == 1
