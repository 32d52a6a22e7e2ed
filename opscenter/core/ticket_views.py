"""The pages every kind of ticket has: the queue (tabs, filters, sort, a capped count), the detail page with
its transition forms, timeline, comments and files, and the posts that act on it.

An app declares its model, its queues, its filter form, its transition forms and templates, and subclasses
the hooks (its selector, its service, what its detail shows besides); the rest is here. Views stay thin: a
selector, a form, one service call; refusals from the services (OpsCenterError) are shown on the page with
their HTTP status, never as an error page, and change nothing.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from opscenter.core.exceptions import InvalidInput, OpsCenterError, UnknownTransition, detail_text
from opscenter.core.forms import AttachmentForm, CommentForm, TransitionForm, apply_service_errors
from opscenter.core.pagination import CappedCountPaginator
from opscenter.core.selectors import ticket_timeline
from opscenter.core.services import (
    attachment_add,
    check_may_contribute,
    check_transition,
    comment_add,
    is_read_only_user,
    perform_transition,
)
from opscenter.core.workflow import AvailableTransition, available_transitions, state_field_name

# --- The queue ---------------------------------------------------------------------------------------------


class TicketListView(LoginRequiredMixin, View):
    """The queue: tabs, filters, sort and pagination; a constant number of queries whatever the rows.

    Declare `template_name`, `queues` (name → label) and `filter_form`; override `queues_for`,
    `default_queue` and `rows` (the app's selector, filtered and ordered by the form)."""

    http_method_names: ClassVar[list[str]] = ["get", "head", "options"]
    template_name = ""
    page_size = 25
    queues: ClassVar[dict[str, Any]] = {}
    filter_form: ClassVar[type]

    def queues_for(self, user: Any) -> list[str]:
        return list(self.queues)

    def default_queue(self, user: Any) -> str:
        return self.queues_for(user)[0]

    def get_filter_form(self, request: HttpRequest) -> Any:
        return self.filter_form(request.GET if request.GET else None)

    def rows(self, form: Any, user: Any, queue: str) -> models.QuerySet:
        raise NotImplementedError

    def page_loaded(self, page: Any, form: Any) -> None:
        """What the rows of the page need read together, after the page is cut."""

    def extra_context(self, user: Any) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        queues = self.queues_for(user)
        queue = request.GET.get("queue")
        if queue not in queues:
            queue = self.default_queue(user)
        form = self.get_filter_form(request)
        # Counting stops past a thousand ("Page 1 of 40+ · 1000+ items"): counting the 100,000 tickets of
        # the "all" queue cost more than showing a page of them.
        page = CappedCountPaginator(self.rows(form, user, queue), self.page_size).get_page(request.GET.get("page"))
        self.page_loaded(page, form)
        query = request.GET.copy()
        query.pop("page", None)
        query["queue"] = queue
        return render(request, self.template_name, {
            "page": page,
            "query": query.urlencode(),
            "form": form,
            "queue": queue,
            "queues": [(name, self.queues[name]) for name in queues],
            "sort": form.sort_key(),
            **self.extra_context(user),
        })


# --- The detail page ---------------------------------------------------------------------------------------


@dataclass
class Action:
    """One transition on the detail page: its form, or the reason it is blocked."""

    transition: AvailableTransition
    form: TransitionForm | None
    open: bool = False
    target_label: str = ""
    style: str = field(default="btn-outline-primary")


class TicketDetailView(LoginRequiredMixin, View):
    """The detail page of a ticket: what the app shows, the transitions the user may take (each with its form, or
    the rule that blocks it), the timeline, and the comment and file forms.

    Declare `model`, `template_name` (the app's routes are named by convention, see `url_names`),
    `transition_forms`, `forward_transitions` (the next steps: shown open) and `danger_transitions`; override
    `get_object` (the app's selector), `perform` (the app's service) and `detail_context` (what else the page
    shows). The posts (TicketTransitionView, TicketCommentView, TicketAttachmentView) subclass the app's detail
    view, so that a refusal shows the same page."""

    http_method_names: ClassVar[list[str]] = ["get", "head", "options"]
    model: ClassVar[type[models.Model]]
    template_name = ""
    transition_forms: ClassVar[dict[str, type[TransitionForm]]] = {}
    forward_transitions: ClassVar[tuple[str, ...]] = ()
    danger_transitions: ClassVar[tuple[str, ...]] = ()
    # The timeline's first row: the transition name the create service logs, and how it reads.
    created_transition = "create"
    created_label = ""

    @property
    def url_names(self) -> dict[str, str]:
        """The app's routes, named by convention `<app>:<model>-detail`, `-transition`, `-comment`, `-attachment`."""
        opts = self.model._meta
        return {kind: f"{opts.app_label}:{opts.model_name}-{kind}"
                for kind in ("detail", "transition", "comment", "attachment")}

    # --- hooks ---

    def get_object(self, user: Any, pk: int) -> models.Model:
        raise NotImplementedError

    def perform(self, obj: models.Model, name: str, *, user: Any, comment: str, data: dict[str, Any]) -> Any:
        return perform_transition(obj, name, user=user, comment=comment, data=data)

    def detail_context(self, obj: models.Model, user: Any, bound: dict[str, Any]) -> dict[str, Any]:
        """What the app's page shows besides the transitions, the timeline and the comment forms."""
        return {}

    def form_context(self, obj: models.Model, user: Any, context: dict[str, Any] | None) -> dict[str, Any]:
        """What the transition forms are given besides the ticket (`context`: the page's, when it is shown)."""
        return {}

    def timeline_note(self, record: Any) -> str:
        """A note beside a transition that leaves the state as it is (the channel of a report …)."""
        return ""

    def change_values(self, record: Any) -> tuple[str, str]:
        """A field change's old and new values as the timeline shows them (an app stores some as data and words
        them here, in the reader's language)."""
        return record.old_value, record.new_value

    # --- the page ---

    def object_or_404(self, user: Any, pk: int) -> models.Model:
        try:
            return self.get_object(user, pk)
        except self.model.DoesNotExist:
            raise Http404 from None

    def detail_url(self, obj: models.Model, anchor: str = "") -> str:
        return reverse(self.url_names["detail"], args=[obj.pk]) + anchor

    def transition_labels(self) -> dict[str, str]:
        field_ = self.model._meta.get_field(state_field_name(self.model))
        labels = {t.name: str(t.custom.get("label") or t.name) for t in field_.get_all_transitions(self.model)}
        labels[self.created_transition] = str(self.created_label or self.created_transition)
        return labels

    def state_labels(self) -> dict[str, str]:
        return {value: str(label) for value, label in self.model._meta.get_field(state_field_name(self.model)).choices}

    def field_label(self, name: str) -> str:
        try:
            return str(self.model._meta.get_field(name).verbose_name)
        except Exception:  # steps, and fields since removed from the model
            return name

    def timeline(self, obj: models.Model, user: Any) -> list[dict[str, Any]]:
        labels, states = self.transition_labels(), self.state_labels()
        rows = []
        for entry in ticket_timeline(obj, user=user):
            row: dict[str, Any] = {"entry": entry, "kind": entry.kind, "at": entry.at, "actor": entry.actor}
            record = entry.record
            if entry.kind == "transition":
                row["label"] = labels.get(record.transition, record.transition)
                if record.source_state and record.source_state != record.target_state:
                    row["source"] = states.get(record.source_state, record.source_state)
                    row["target"] = states.get(record.target_state, record.target_state)
                else:
                    row["note"] = self.timeline_note(record)
            elif entry.kind == "change":
                row["label"] = self.field_label(record.field)
                row["old"], row["new"] = self.change_values(record)
            rows.append(row)
        return rows

    def action_style(self, name: str) -> str:
        if name in self.danger_transitions:
            return "btn-outline-danger"
        return "btn-primary" if name in self.forward_transitions else "btn-outline-primary"

    def make_form(self, name: str, obj: models.Model, user: Any, form_context: dict[str, Any],
                  data: Any = None) -> TransitionForm:
        return self.transition_forms[name](data, prefix=name, obj=obj, user=user, context=form_context)

    def actions(self, obj: models.Model, user: Any, *, form_context: dict[str, Any],
                bound: dict[str, Any]) -> list[Action]:
        if obj.is_read_only:
            return []
        states = self.state_labels()
        actions = []
        for transition in available_transitions(obj, user):
            if transition.name not in self.transition_forms:
                continue
            target = states.get(transition.target, "")
            if not transition.allowed:
                actions.append(Action(transition, None, target_label=target))
                continue
            form = bound.get(f"transition:{transition.name}") or self.make_form(
                transition.name, obj, user, form_context)
            actions.append(Action(transition, form, open=form.is_bound, target_label=target,
                                  style=self.action_style(transition.name)))
        if not any(a.open for a in actions):
            first = next((a for a in actions if a.form and a.transition.name in self.forward_transitions), None)
            if first:
                first.open = True
        return actions

    def render_detail(self, request: HttpRequest, obj: models.Model, *, bound: dict[str, Any] | None = None,
                      status: int = 200) -> HttpResponse:
        user = request.user
        bound = bound or {}
        context = self.detail_context(obj, user, bound)
        contribute = not is_read_only_user(user) and not obj.is_read_only
        context.update({
            "object": obj,
            self.model._meta.model_name: obj,
            "verbose_name": self.model._meta.verbose_name,
            "url_names": self.url_names,
            "timeline": self.timeline(obj, user),
            "actions": self.actions(obj, user, form_context=self.form_context(obj, user, context), bound=bound),
            "comment_form": (bound.get("comment") or CommentForm(user=user)) if contribute else None,
            "attachment_form": (bound.get("attachment") or AttachmentForm()) if contribute else None,
        })
        return render(request, self.template_name, context, status=status)

    def refused(self, request: HttpRequest, pk: int, exc: OpsCenterError) -> HttpResponse:
        """Show a refusal (403/409/400) on the page, with the ticket as it is now."""
        messages.error(request, detail_text(exc.detail))
        return self.render_detail(request, self.object_or_404(request.user, pk), status=exc.status_code)

    def invalid(self, request: HttpRequest, obj: models.Model, key: str, form: Any, exc: InvalidInput) -> HttpResponse:
        """Show the form again with the service's complaints on its fields."""
        apply_service_errors(form, exc.detail)
        messages.error(request, _("Please correct the fields marked below."))
        return self.render_detail(request, obj, bound={key: form}, status=exc.status_code)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_detail(request, self.object_or_404(request.user, pk))


class TicketEditView(LoginRequiredMixin, View):
    """The edit page of a ticket: the fields its state allows, saved through the app's update service.

    Declare `template_name`, `detail_route` (`<app>:<model>-detail`), `object_name` (the template's name for the
    ticket), `refusal` (why a user who may not edit it now gets 403) and `saved_text`; override `get_object` (the
    selector: a ticket the user may not see is 404), `may_edit`, `get_form` and `save` (the app's `<entity>_update`
    with the form's values). The service's complaints about the input (400) go back on the form; any other refusal
    (403, 409: the ticket moved on) is a message on the ticket's page, where the edit changed nothing."""

    http_method_names: ClassVar[list[str]] = ["get", "post"]
    template_name = ""
    detail_route = ""
    object_name = "object"
    refusal = gettext_lazy("You may not edit this now.")
    saved_text = gettext_lazy("Saved.")

    def get_object(self, user: Any, pk: int) -> models.Model:
        raise NotImplementedError

    def may_edit(self, obj: models.Model, user: Any) -> bool:
        raise NotImplementedError

    def get_form(self, request: HttpRequest, obj: models.Model) -> Any:
        raise NotImplementedError

    def save(self, obj: models.Model, user: Any, form: Any) -> models.Model:
        raise NotImplementedError

    def saved(self, request: HttpRequest, before: models.Model, after: models.Model) -> None:
        """Say what the save did (`before`: the ticket as the page showed it)."""
        messages.success(request, self.saved_text)

    def extra_context(self, obj: models.Model) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        try:
            obj = self.get_object(user, pk)
        except models.ObjectDoesNotExist:
            raise Http404 from None
        if not self.may_edit(obj, user):
            raise PermissionDenied(self.refusal)
        form = self.get_form(request, obj)
        if request.method == "POST" and form.is_valid():
            try:
                updated = self.save(obj, user, form)
            except InvalidInput as exc:
                apply_service_errors(form, exc.detail)
            except OpsCenterError as exc:
                messages.error(request, detail_text(exc.detail))
                return redirect(self.detail_route, pk=obj.pk)
            else:
                self.saved(request, obj, updated)
                return redirect(self.detail_route, pk=obj.pk)
        return render(request, self.template_name, {
            "form": form, "mode": "edit", self.object_name: obj, **self.extra_context(obj),
        }, status=400 if form.is_bound else 200)

    post = get


class TicketTransitionView(TicketDetailView):
    """Perform one transition from its form, through the app's service (`perform`)."""

    http_method_names: ClassVar[list[str]] = ["post"]

    def post(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        user = request.user
        obj = self.object_or_404(user, pk)
        if name not in self.transition_forms:
            return self.refused(request, pk, UnknownTransition())
        form = self.make_form(name, obj, user, self.form_context(obj, user, None), data=request.POST)
        try:
            check_transition(obj, name, user=user)  # 403/409 before the form's own complaints
            if not form.is_valid():
                raise InvalidInput({})
            obj = self.perform(obj, name, user=user, comment=form.comment(), data=form.transition_data())
        except InvalidInput as exc:
            return self.invalid(request, obj, f"transition:{name}", form, exc)
        except OpsCenterError as exc:
            return self.refused(request, pk, exc)
        messages.success(request, _("%(action)s: done. The %(model)s is now “%(state)s”.") % {
            "action": self.transition_labels().get(name, name), "model": self.model._meta.verbose_name,
            "state": obj.get_state_display()})
        return redirect(self.detail_url(obj))


class TicketPostView(TicketDetailView):
    """A post of a ticket's page besides the transitions (a side form: a review, a link, an action of a plan …),
    through one service: a refusal (the user's right, the ticket's state) comes first and shows the page with the
    reason; then complaints about the form, or the service's about the input, show the form again with them;
    success shows the page anew at `anchor` with the service's message. Declare `form` (the form's key on the page
    and the form, or none), `check` and `act` (the service call, returning the message of success); `done_url`
    where success goes elsewhere. An app's post is `class <X>View(<X>DetailView, TicketPostView)`."""

    http_method_names: ClassVar[list[str]] = ["post"]
    anchor = ""

    def form(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> tuple[str, Any]:
        return "", None

    def check(self, obj: models.Model, user: Any) -> None:
        """Raise the refusal (OpsCenterError) of a user who may not do this now."""

    def act(self, request: HttpRequest, obj: models.Model, form: Any, **kwargs: Any) -> str:
        raise NotImplementedError

    def done_url(self, obj: models.Model, form: Any) -> str:
        return self.detail_url(obj, self.anchor)

    def post(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        obj = self.object_or_404(request.user, pk)
        key, form = self.form(request, obj, **kwargs)
        try:
            self.check(obj, request.user)
        except OpsCenterError as exc:
            return self.refused(request, pk, exc)
        try:
            if form is not None and not form.is_valid():
                raise InvalidInput({})
            done = self.act(request, obj, form, **kwargs)
        except InvalidInput as exc:
            if form is None:
                return self.refused(request, pk, exc)
            return self.invalid(request, obj, key, form, exc)
        except OpsCenterError as exc:
            return self.refused(request, pk, exc)
        messages.success(request, str(done))
        return redirect(self.done_url(obj, form))


class TicketContributionView(TicketPostView):
    """A post that adds to an open ticket's timeline (a comment, a file): refused for a read-only ticket or user,
    the form shown again with the service's complaints."""

    anchor = "#timeline"
    form_key = ""
    done_message = ""

    def get_form(self, request: HttpRequest) -> Any:
        raise NotImplementedError

    def add(self, obj: models.Model, user: Any, form: Any) -> None:
        raise NotImplementedError

    def form(self, request: HttpRequest, obj: models.Model, **kwargs: Any) -> tuple[str, Any]:
        return self.form_key, self.get_form(request)

    def check(self, obj: models.Model, user: Any) -> None:
        check_may_contribute(obj, user=user)

    def act(self, request: HttpRequest, obj: models.Model, form: Any, **kwargs: Any) -> str:
        self.add(obj, request.user, form)
        return str(self.done_message)


class TicketCommentView(TicketContributionView):
    """Add a comment to the ticket's timeline."""

    form_key = "comment"
    done_message = gettext_lazy("Your comment was added.")

    def get_form(self, request: HttpRequest) -> CommentForm:
        return CommentForm(request.POST, user=request.user)

    def add(self, obj: models.Model, user: Any, form: CommentForm) -> None:
        comment_add(obj, user=user, body=form.cleaned_data["body"],
                    is_internal=bool(form.cleaned_data.get("is_internal")))


class TicketAttachmentView(TicketContributionView):
    """Attach a file to the ticket."""

    form_key = "attachment"
    done_message = gettext_lazy("The file was attached.")

    def get_form(self, request: HttpRequest) -> AttachmentForm:
        return AttachmentForm(request.POST, request.FILES)

    def add(self, obj: models.Model, user: Any, form: AttachmentForm) -> None:
        attachment_add(obj, user=user, upload=form.cleaned_data["file"])
