"""The cycle's output rows keep their case in the database and their other references in the
ORM: their foreign keys other than ``case`` carry no database check (the cycle writes them
set-based from ids it read in the same transaction), and deleting what they point to through
the ORM still protects, nulls or cascades as each field says."""

import pytest
from django.db import connection
from django.db.models import ProtectedError

from recobro.channels.models import Message
from recobro.portfolio.models import ContactPoint
from recobro.strategy.models import Action, CaseState, StageTransition, Task
from tests.strategy.conftest import AS_OF, cycle, populate


def _foreign_keys(model) -> set[str]:
    """Columns of ``model``'s table that carry a foreign key constraint in the database."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {column for c in constraints.values() if c["foreign_key"] for column in c["columns"]}


def test_only_the_case_keys_of_the_cycle_output_are_checked_by_the_database(db):
    assert _foreign_keys(CaseState) == {"case_id"}
    assert _foreign_keys(StageTransition) == {"case_id", "user_id"}
    assert _foreign_keys(Action) == {"case_id"}
    assert _foreign_keys(Message) == {"case_id"}
    assert _foreign_keys(Task) == {"case_id", "assigned_to_id"}


@pytest.fixture
def ran(cast, config):
    populate(cast, 30)
    counts = cycle(cast, AS_OF)
    assert counts["messages"] > 0 and counts["tasks"] > 0
    return config


def test_a_template_step_or_variant_in_use_is_still_protected(ran):
    message = Message.objects.select_related("template").first()
    with pytest.raises(ProtectedError):
        message.template.delete()
    action = Action.objects.select_related("step", "variant").first()
    with pytest.raises(ProtectedError):
        action.step.delete()
    with pytest.raises(ProtectedError):  # its steps cascade, and their actions protect them
        action.variant.delete()
    state = CaseState.objects.exclude(stage=None).select_related("stage").first()
    with pytest.raises(ProtectedError):
        state.stage.delete()


def test_deleting_a_segment_or_contact_point_clears_the_references(ran):
    segment = ran.bajo  # no strategy names it
    users = CaseState.objects.filter(segment=segment).count()
    segment_id = segment.pk
    segment.delete()
    assert users > 0 and not CaseState.objects.filter(segment_id=segment_id).exists()
    assert CaseState.objects.filter(segment=None).count() >= users

    message = Message.objects.exclude(contact_point=None).first()
    point = ContactPoint.objects.get(pk=message.contact_point_id)
    point.delete()
    message.refresh_from_db()
    assert message.contact_point_id is None
