"""The fact catalogue the rule editor's help panel and the cycle engine read."""

from django.utils import translation

from recobro.strategy.rules import (
    ATTRIBUTES_KEY,
    CATALOGUE,
    FACTS,
    FactType,
    get_fact,
    help_entries,
    parse,
    to_sql,
)


def test_the_catalogue_names_every_fact_of_the_issue_with_its_type():
    types = {fact.name: fact.type for fact in CATALOGUE}
    assert types == {
        **dict.fromkeys(
            [
                "dpd",
                "days_to_due",
                "open_documents",
                "broken_promises_90d",
                "payments_30d",
                "days_since_last_payment",
                "days_since_last_contact",
                "days_in_stage",
            ],
            FactType.INT,
        ),
        **dict.fromkeys(
            ["balance", "overdue_balance", "original_amount", "paid_amount_30d", "score"], FactType.DECIMAL
        ),
        **dict.fromkeys(
            ["bucket", "stage", "product", "region", "debtor_type", "portfolio", "currency"], FactType.TEXT
        ),
        **dict.fromkeys(["active_plan", "promise_pending", "disputed", "payment_in_transit"], FactType.BOOL),
    }
    assert [f.name for f in CATALOGUE if f.places == 2] == [
        "balance",
        "overdue_balance",
        "original_amount",
        "paid_amount_30d",
    ]


def test_every_fact_has_a_label_and_a_help_line():
    with translation.override("en"):
        for fact in CATALOGUE:
            assert str(fact.label).strip(), fact.name
            assert str(fact.help).strip().endswith("."), fact.name
            assert "\n" not in str(fact.help)


def test_custom_attributes_are_text_facts_read_from_the_attr_column():
    fact = get_fact("attr.region")
    assert (fact.type, fact.attribute, fact.column_key) == (FactType.TEXT, "region", ATTRIBUTES_KEY)
    assert get_fact("attr.Region") is None
    assert get_fact("attr." + "a" * 40) is not None
    assert get_fact("attr." + "a" * 41) is None
    assert get_fact("attr.1a") is None
    assert FACTS["dpd"].column_key == "dpd"


def test_the_engine_is_asked_only_for_the_columns_the_rule_reads():
    asked = []

    def columns(name):
        asked.append(name)
        return f"f.{name}"

    to_sql(parse("dpd > 1 and attr.region == 'a' or attr.zone is null"), columns, vendor="sqlite")
    assert asked == ["dpd", "attr", "attr"]


def test_the_help_panel_lists_every_fact_then_custom_attributes():
    with translation.override("en"):
        entries = help_entries()
    assert [e["name"] for e in entries] == [*(f.name for f in CATALOGUE), "attr.<name>"]
    assert entries[0] == {
        "name": "dpd",
        "type": "a whole number",
        "label": "days past due",
        "help": "Days since the oldest open due date; 0 when nothing is overdue.",
    }
    assert entries[-1]["type"] == "text"
