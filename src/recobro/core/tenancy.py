"""Tenancy in one place: which organization a request works in, and scoped querysets.

Every domain model's manager derives from ``OrganizationQuerySet``; views, the admin and
the API reach rows only through ``for_organization`` / ``for_user``.
"""

from django.db import models
from django.http import Http404

from recobro.core.models import Membership, Organization


class OrganizationQuerySet(models.QuerySet):
    #: Path from the model to the portfolio, for collectors limited to some portfolios.
    #: None means the model is not portfolio-bound (visible to every member).
    portfolio_path: str | None = "portfolio"

    def for_organization(self, organization):
        return self.filter(organization=organization)

    def for_membership(self, membership: Membership | None):
        if membership is None or not membership.is_active:
            return self.none()
        qs = self.filter(organization_id=membership.organization_id)
        if membership.sees_all_portfolios or self.portfolio_path is None:
            return qs
        allowed = membership.portfolios.values("pk")
        return qs.filter(**{f"{self.portfolio_path}__in": allowed})

    def for_user(self, user, organization=None):
        return self.for_membership(membership_for(user, organization))


class OrganizationWideQuerySet(OrganizationQuerySet):
    """For rows that belong to the organization, not to one portfolio."""

    portfolio_path = None


def membership_for(user, organization=None) -> Membership | None:
    """The user's active membership in ``organization`` (or their first one)."""
    if user is None or not user.is_authenticated:
        return None
    cache = getattr(user, "_recobro_memberships", None)
    if cache is None:
        cache = list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("organization")
            .order_by("organization__name")
        )
        user._recobro_memberships = cache
    for membership in cache:
        if organization is None or membership.organization_id == getattr(organization, "pk", organization):
            return membership
    return None


def organizations_for(user):
    return Organization.objects.for_user(user)


def get_for_user_or_404(queryset: models.QuerySet, user, organization=None, **lookup):
    """The one helper views use to find an object for this user: 404 when not theirs."""
    obj = queryset.for_user(user, organization).filter(**lookup).first()
    if obj is None:
        raise Http404
    return obj
