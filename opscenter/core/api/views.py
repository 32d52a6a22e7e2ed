"""API endpoints of the kernel: API tokens, who am I, organisation, services, CIs, my notifications."""

from django.contrib.auth import authenticate, user_logged_in
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from knox.views import LogoutAllView, LogoutView
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opscenter.core import outbox
from opscenter.core.api.permissions import RoleModelPermissions
from opscenter.core.api.serializers import (
    ApiTokenSerializer,
    ConfigurationItemSerializer,
    DepartmentSerializer,
    InboxGroupsSerializer,
    IssuedTokenSerializer,
    MarkedReadSerializer,
    MarkReadSerializer,
    MeSerializer,
    NotificationSerializer,
    ServiceSerializer,
    TeamSerializer,
    TokenObtainSerializer,
    UserSerializer,
)
from opscenter.core.exceptions import InvalidInput
from opscenter.core.filters import ConfigurationItemFilterSet, NotificationFilterSet
from opscenter.core.lockout import SignInLockedOut
from opscenter.core.models import Department, Notification, Team, User
from opscenter.core.notification_kinds import reader_language
from opscenter.core.selectors import configuration_item_list, configuration_items_visible_to, service_list
from opscenter.core.tokens import ApiTokenAuthentication, api_token_create, api_token_revoke, api_tokens_of


class TokenObtainView(APIView):
    """A new API token for a username and password. Failed attempts count towards the sign-in lockout (429
    `locked_out` once it is reached); a success clears them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenObtainSerializer, responses={200: IssuedTokenSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            if getattr(request, "axes_locked_out", False):  # set by django-axes on this request
                raise SignInLockedOut()
            raise InvalidInput(_("Unable to sign in with the username and password given."))
        token, key = api_token_create(user=user)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        issued = {"token": key, "token_key": token.token_key, "expiry": token.expiry}
        return Response(IssuedTokenSerializer(issued).data)


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class TokenLogoutView(LogoutView):
    """Revoke the token this request was made with."""

    authentication_classes = [ApiTokenAuthentication]


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class TokenLogoutAllView(LogoutAllView):
    """Revoke every token of the caller (this one included)."""

    authentication_classes = [ApiTokenAuthentication]


class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's valid tokens (never the keys: the first 15 characters), and one revoked by them (DELETE)."""

    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list = []
    lookup_field = "token_key"
    lookup_url_kwarg = "key"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return api_tokens_of(None).none()
        return api_tokens_of(self.request.user)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, key: str) -> Response:
        """Revoke one of the caller's tokens; another user's answers 404 and stays valid."""
        api_token_revoke(user=request.user, key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def list(self, request: Request) -> Response:
        user = User.objects.prefetch_related("teams").select_related("department").get(pk=request.user.pk)
        return Response(MeSerializer(user).data)


class DepartmentViewSet(viewsets.ModelViewSet):
    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    permission_classes = [RoleModelPermissions]
    search_fields = ["code", "name"]
    filterset_fields = ["is_active"]


class TeamViewSet(viewsets.ModelViewSet):
    queryset = Team.objects.prefetch_related("members")
    serializer_class = TeamSerializer
    permission_classes = [RoleModelPermissions]
    search_fields = ["code", "name"]
    filterset_fields = ["kind", "is_active"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.prefetch_related("groups")
    serializer_class = UserSerializer
    permission_classes = [RoleModelPermissions]
    search_fields = ["username", "first_name", "last_name", "display_name", "email"]
    filterset_fields = ["department", "is_active"]


class ServiceViewSet(viewsets.ModelViewSet):
    queryset = service_list()
    serializer_class = ServiceSerializer
    permission_classes = [RoleModelPermissions]
    search_fields = ["code", "name"]
    filterset_fields = ["criticality", "owner_department", "support_team", "is_active"]


class ConfigurationItemViewSet(viewsets.ModelViewSet):
    queryset = configuration_item_list()
    serializer_class = ConfigurationItemSerializer
    permission_classes = [RoleModelPermissions]
    search_fields = ["name", "asset_tag", "serial_number", "location"]
    filterset_class = ConfigurationItemFilterSet

    def get_queryset(self):
        # The one rule of who reads CIs, shared with the forms that name one (incident reports and edits).
        return configuration_items_visible_to(self.request.user, super().get_queryset())


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's delivered in-app notifications, in their language, filtered by kind (`event`),
    `ticket` and `unread`; `groups/` counts them by kind and by ticket; `read/` marks them read."""

    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = NotificationFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        return outbox.inbox(self.request.user)

    @extend_schema(request=MarkReadSerializer, responses={200: MarkedReadSerializer})
    @action(detail=False, methods=["post"])
    def read(self, request: Request) -> Response:
        """Mark the caller's notifications read: those of `ids`, of one kind (`event`) or ticket, or all."""
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        count = outbox.mark_read(request.user, data.get("ids"), event=data.get("event", ""),
                                 ticket=data.get("ticket", ""))
        return Response({"marked": count, "unread": outbox.unread_count(request.user)})

    @extend_schema(responses={200: InboxGroupsSerializer})
    @action(detail=False, methods=["get"])
    def groups(self, request: Request) -> Response:
        """The caller's notifications counted by kind and by ticket (the ten latest), with the unread."""
        with translation.override(reader_language(request.user)):
            return Response(InboxGroupsSerializer(outbox.inbox_groups(request.user)).data)
