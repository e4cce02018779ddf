"""Import profiles in the back-office keep their custom-attribute mappings (attr.<name>)."""

import pytest
from django.urls import reverse

from recobro.portfolio.models import ImportProfile
from tests.backoffice.conftest import client_for

FORM = {
    "name": "ERP Norte",
    "kind": "debtors",
    "delimiter": ",",
    "encoding": "utf-8",
    "number_format": "dot",
    "date_format": "iso",
    "map_debtors-external_id": "Num Cliente",
    "map_debtors-attr-count": "3",
}


@pytest.fixture
def ana(cast):
    return client_for(cast.ana)


def test_attribute_mappings_are_saved_and_shown_again(ana, cast):
    data = {
        **FORM,
        "map_debtors-attr-0-name": "region",
        "map_debtors-attr-0-header": "Zona de venta",
        "map_debtors-attr-1-name": "attr.segmento_erp",  # the prefix may be typed too
        "map_debtors-attr-1-header": "Segmento",
        "map_debtors-attr-2-name": "sin_columna",  # no header: maps nothing
    }
    response = ana.post(reverse("admin:portfolio_importprofile_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile = ImportProfile.objects.get(name="ERP Norte")
    assert profile.column_map == {
        "external_id": "Num Cliente",
        "attr.region": "Zona de venta",
        "attr.segmento_erp": "Segmento",
    }
    page = ana.get(reverse("admin:portfolio_importprofile_change", args=[profile.pk])).content.decode()
    assert 'name="map_debtors-attr-0-name" value="region"' in page
    assert 'name="map_debtors-attr-1-header" value="Segmento"' in page
    assert 'name="map_debtors-attr-count" value="5"' in page  # two kept, three to add


def test_an_invalid_attribute_name_is_explained_on_the_form(ana, cast):
    data = {**FORM, "map_debtors-attr-0-name": "Región", "map_debtors-attr-0-header": "Región"}
    response = ana.post(reverse("admin:portfolio_importprofile_add"), data)
    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["map_debtors"]
    assert "“Región”" in message
    assert not ImportProfile.objects.exists()
