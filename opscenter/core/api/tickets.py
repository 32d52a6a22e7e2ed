"""API building blocks every process app's ticket viewset uses: transitions, timeline, comments, files."""

from typing import Any, ClassVar

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opscenter.core.api.serializers import (
    AttachmentCreatedSerializer,
    AttachmentEntrySerializer,
    AttachmentInputSerializer,
    AvailableTransitionSerializer,
    CommentCreatedSerializer,
    CommentInputSerializer,
    TimelineEntrySerializer,
    TransitionInputSerializer,
)
from opscenter.core.exceptions import ReadOnlyRecord
from opscenter.core.selectors import can_see_internal_notes, ticket_attachments, ticket_timeline
from opscenter.core.services import attachment_add, check_transition, comment_add, perform_transition
from opscenter.core.workflow import allowed_transition_names, available_transitions


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class AvailableTransitionsField(serializers.SerializerMethodField):
    """`available_transitions`: names of the transitions the requesting user may take now."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Transitions the requesting user may take now.")
        super().__init__(**kwargs)

    def to_representation(self, instance: Any) -> list[str]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return allowed_transition_names(instance, user) if user else []


class TransitionActionMixin:
    """Adds `transitions/<name>/`: refuse what may not happen (400 unknown, 409 state, 403 role, 409 condition)
    before reading the data it requires (400), then move the object through the app's service.

    Declare `transition_serializers` (the input serializer of each transition that needs data; the
    validated data less `comment` becomes the transition's keyword arguments) and, for the others,
    `transition_serializer_class`. Override `perform_ticket_transition` to call the app's own service,
    `check_ticket_transition` where the service explains a refusal better than the kernel's check, and
    `transition_response` to answer with the app's detail.
    """

    transition_serializers: ClassVar[dict[str, type[serializers.Serializer]]] = {}
    transition_serializer_class: ClassVar[type[serializers.Serializer]] = TransitionInputSerializer

    def transition_input(self, name: str, request: Request) -> tuple[dict[str, Any], str]:
        serializer_class = self.transition_serializers.get(name, self.transition_serializer_class)
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        return data, data.pop("comment", "")

    def perform_ticket_transition(self, obj: Any, name: str, *, user: Any, comment: str,
                                  data: dict[str, Any]) -> Any:
        """The one hook for an app's service (the kernel's transition service by default)."""
        return perform_transition(obj, name, user=user, comment=comment, data=data)

    def check_ticket_transition(self, obj: Any, name: str, *, user: Any) -> None:
        """The refusal before the data is read (the kernel's `check_transition`; an app may say more, as its
        service would)."""
        check_transition(obj, name, user=user)

    def transition_response(self, obj: Any) -> Response:
        """The object as the caller now sees it."""
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)

    @extend_schema(
        request=TransitionInputSerializer,
        parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH)],
        summary="Perform a transition",
    )
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<transition>[A-Za-z0-9_]+)")
    def transition(self, request: Request, pk: str | None = None, transition: str = "") -> Response:
        obj = self.get_object()
        self.check_ticket_transition(obj, transition, user=request.user)
        data, comment = self.transition_input(transition, request)
        obj = self.perform_ticket_transition(obj, transition, user=request.user, comment=comment, data=data)
        return self.transition_response(obj)


class TicketUpdateMixin:
    """`PATCH` of a ticket: what its state allows, through the app's update service (the one hook,
    `perform_ticket_update`, given the validated changes), answered with the ticket as the caller now sees it. A
    read-only ticket (closed, cancelled …) is refused (409 `read_only`) before its input is read. Declare
    `update_serializer_class`; describe the operation with `extend_schema_view(partial_update=extend_schema(…))`.
    Used beside `TicketViewSetMixin` (its `detail_response`)."""

    update_serializer_class: ClassVar[type[serializers.Serializer] | None] = None

    def perform_ticket_update(self, obj: Any, *, user: Any, changes: dict[str, Any]) -> Any:
        raise NotImplementedError

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        if getattr(obj, "is_read_only", False):
            raise ReadOnlyRecord()
        serializer = self.update_serializer_class(obj, data=request.data, partial=True,
                                                  context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return self.detail_response(self.perform_ticket_update(obj, user=request.user,
                                                               changes=dict(serializer.validated_data)))


class TicketViewSetMixin(TransitionActionMixin):
    """Adds `transitions/<name>/` (TransitionActionMixin), `available-transitions`, `timeline`, `comments`,
    `attachments`, gives the tickets the caller may see (`visible`: the base of an app's `get_queryset`), and
    answers a write with the ticket as the caller now sees it (`detail_response`, with the viewset's serializer;
    override `detail_queryset` when the detail reads more than `get_queryset`). The caller's roles and teams are
    read once per request however many rows ask for them (`opscenter.core.access`)."""

    list_serializer_class: ClassVar[type[serializers.Serializer] | None] = None
    detail_serializer_class: ClassVar[type[serializers.Serializer] | None] = None

    def get_serializer_class(self) -> type[serializers.Serializer]:
        """The list's rows and every other answer's detail, where the app declares both."""
        if self.list_serializer_class is None:
            return super().get_serializer_class()
        return self.list_serializer_class if self.action == "list" else self.detail_serializer_class

    def filter_queryset(self, queryset: Any) -> Any:
        # The filters narrow lists; every other action finds its ticket by id alone (building the filterset for it
        # would cost and change nothing).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def visible(self) -> Any:
        """The tickets the caller may see (the model's `visible_to`); none while the schema is generated."""
        model = self.queryset.model
        if getattr(self, "swagger_fake_view", False):
            return model.objects.none()
        return model.objects.visible_to(self.request.user)

    def detail_queryset(self) -> Any:
        return self.get_queryset()

    def detail_response(self, obj: Any, status_code: int = status.HTTP_200_OK) -> Response:
        """The ticket as the caller now sees it. A change may hide it from them (moved to a queue they do not
        see): then only what they did is confirmed."""
        fresh = self.detail_queryset().filter(pk=obj.pk).first()
        if fresh is None:
            return Response({"id": obj.pk, "number": obj.number, "state": obj.state,
                             "state_label": obj.get_state_display(), "visible": False}, status=status_code)
        return Response(self.get_serializer(fresh).data, status=status_code)

    def transition_response(self, obj: Any) -> Response:
        return self.detail_response(obj)

    # Lists of one ticket's records come whole: neither paginated nor filtered (nor described so).
    @extend_schema(responses=AvailableTransitionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="available-transitions", pagination_class=None)
    def available_transitions(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        return Response(AvailableTransitionSerializer(available_transitions(obj, request.user), many=True).data)

    @extend_schema(responses=TimelineEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        return Response(TimelineEntrySerializer(ticket_timeline(obj, user=request.user), many=True).data)

    @extend_schema(request=CommentInputSerializer, responses={201: CommentCreatedSerializer})
    @action(detail=True, methods=["post"])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        internal = serializer.validated_data["is_internal"] and can_see_internal_notes(request.user)
        comment = comment_add(obj, user=request.user, body=serializer.validated_data["body"],
                              is_internal=internal)
        return Response({"id": comment.pk, "body": comment.body, "internal": comment.is_internal},
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=AttachmentEntrySerializer(many=True), filters=False)
    @extend_schema(methods=["POST"], request={"multipart/form-data": AttachmentInputSerializer},
                   responses={201: AttachmentCreatedSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        if request.method == "POST":
            serializer = AttachmentInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            attachment = attachment_add(obj, user=request.user, upload=serializer.validated_data["file"])
            return Response({"id": attachment.pk, "name": attachment.original_name, "size": attachment.size},
                            status=status.HTTP_201_CREATED)
        return Response([{"id": a.pk, "name": a.original_name, "size": a.size, "type": a.mime_type,
                          "uploaded_by": str(a.uploaded_by), "at": a.created_at}
                         for a in ticket_attachments(obj)])

    @extend_schema(parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
                   responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)/download")
    def attachment_download(self, request: Request, pk: str | None = None, attachment_id: str = "") -> FileResponse:
        obj = self.get_object()
        attachment = get_object_or_404(ticket_attachments(obj), pk=attachment_id)
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)
