from recobro.core.tenancy import membership_for

SESSION_KEY = "recobro_organization_id"


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
        return self.get_response(request)
