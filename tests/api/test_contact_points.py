from recobro.portfolio.models import ContactPoint, Debtor


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
