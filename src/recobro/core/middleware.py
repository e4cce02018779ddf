from django.utils import timezone, translation

from recobro.core.tenancy import membership_for

SESSION_KEY = "recobro_organization_id"


def activate_organization_formats(organization) -> None:
    """Dates and numbers in the organization's locale, datetimes in its timezone.

    The language stays the user's choice; when it is Spanish, the organization's variant
    (es-MX, es-CO) gives Django its date and number formats, with the "es" catalogue.
    """
    language = translation.get_language() or ""
    locale = (organization.locale or "").lower()
    if locale.split("-")[0] == language.split("-")[0] and locale != language:
        translation.activate(locale)
    timezone.activate(organization.timezone)


class OrganizationMiddleware:
    """Sets request.membership and request.organization for a logged-in user.

    A user who belongs to several organizations switches with the session key; the
    default is their first organization by name.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.organization = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = membership_for(user, request.session.get(SESSION_KEY))
            membership = membership or membership_for(user)
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
                activate_organization_formats(membership.organization)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
