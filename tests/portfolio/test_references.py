import pytest
from hypothesis import given
from hypothesis import strategies as st

from recobro.portfolio.models import Debtor
from recobro.portfolio.references import (
    assign_payment_references,
    debtor_id_from,
    format_reference,
    is_valid,
    make_reference,
)


def test_a_reference_is_prefix_debtor_id_and_two_check_digits():
    ref = make_reference(11, 12345)
    assert ref.startswith("11000012345")
    assert len(ref) == 2 + 9 + 2
    assert int(ref) % 97 == 1
    assert debtor_id_from(ref) == 12345


def test_a_mistyped_reference_fails_its_check():
    ref = make_reference(11, 12345)
    typo = ref[:5] + str((int(ref[5]) + 1) % 10) + ref[6:]
    assert not is_valid(typo)
    assert debtor_id_from(typo) is None


@given(st.integers(10, 999), st.integers(1, 10**9 - 1), st.data())
def test_every_single_digit_error_and_adjacent_swap_is_caught(prefix, debtor_id, data):
    ref = make_reference(prefix, debtor_id)
    i = data.draw(st.integers(0, len(ref) - 1))
    d = data.draw(st.sampled_from([c for c in "0123456789" if c != ref[i]]))
    assert not is_valid(ref[:i] + d + ref[i + 1 :])
    j = data.draw(st.integers(0, len(ref) - 2))
    if ref[j] != ref[j + 1]:
        assert not is_valid(ref[:j] + ref[j + 1] + ref[j] + ref[j + 2 :])


def test_printed_groups_and_spaces_are_accepted():
    ref = make_reference(22, 7)
    assert is_valid(format_reference(ref))
    assert is_valid(format_reference(ref).replace(" ", "-"))


def test_assignment_in_sql_matches_python_and_is_stable(cast):
    bob = Debtor.objects.create(organization=cast.mx, external_id="C-2", name="Bob")
    assert assign_payment_references(organization=cast.mx) == 2
    assert assign_payment_references(organization=cast.mx) == 0
    bob.refresh_from_db()
    assert bob.payment_reference == make_reference(11, bob.pk)


def test_reference_prefix_must_have_two_or_three_digits():
    with pytest.raises(ValueError, match="prefix"):
        make_reference(1, 5)
