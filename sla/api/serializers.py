"""Serializers of the service level API: calendars with their hours and exceptions, agreements with their
targets and thresholds, breaches and their explanations, outages, evaluations. Input is checked here (shape,
ranges, overlaps); what happens on save lives in the services."""

import zoneinfo
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from incidents.models import Incident
from opscenter.core.api.serializers import UserRefSerializer, WholeRowMixin
from opscenter.core.api.tickets import AvailableTransitionsField
from opscenter.core.models import User
from opscenter.core.public_holidays import UNKNOWN_REGION, knows_region
from sla.choices import ExceptionKind
from sla.models import (
    Agreement,
    Breach,
    BusinessCalendar,
    CalendarException,
    Evaluation,
    Outage,
    PriorityTarget,
    ServiceTarget,
    Threshold,
    WorkingInterval,
    default_taken_message,
    other_default_agreement,
)

# --- Calendars ---------------------------------------------------------------------------------------------


class WorkingIntervalSerializer(WholeRowMixin, serializers.ModelSerializer):
    class Meta:
        model = WorkingInterval
        fields = ["weekday", "start", "end"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": _("An interval must end after it starts.")})
        return attrs


class CalendarExceptionSerializer(WholeRowMixin, serializers.ModelSerializer):
    class Meta:
        model = CalendarException
        fields = ["date", "kind", "start", "end", "note"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            raise serializers.ValidationError({"end": _("Give both the start and the end, or neither.")})
        if start is not None and end <= start:
            raise serializers.ValidationError({"end": _("An interval must end after it starts.")})
        if attrs["kind"] == ExceptionKind.DAY_OFF and start is not None:
            raise serializers.ValidationError({"start": _("A day off has no hours.")})
        return attrs


def overlapping_weekdays(intervals: list[dict[str, Any]]) -> list[int]:
    """Weekdays on which two of the given working intervals overlap."""
    by_day: dict[int, list[tuple]] = defaultdict(list)
    for interval in intervals:
        by_day[interval["weekday"]].append((interval["start"], interval["end"]))
    return sorted(day for day, periods in by_day.items()
                  if any(a[1] > b[0] for a, b in zip(sorted(periods), sorted(periods)[1:], strict=False)))


class BusinessCalendarSerializer(serializers.ModelSerializer):
    """A calendar with its weekly hours and its exceptions, written whole: an edit replaces both lists,
    raises the calendar's version and recomputes the open clocks on it (stopped ones keep their figures)."""

    intervals = WorkingIntervalSerializer(many=True, required=False)
    exceptions = CalendarExceptionSerializer(many=True, required=False)

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "time_zone", "is_24x7", "holiday_country", "holiday_subdivision", "version",
                  "intervals", "exceptions"]
        read_only_fields = ["version"]

    def validate_time_zone(self, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError(_("Unknown time zone.")) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        days = overlapping_weekdays(attrs.get("intervals", []))
        if days:
            raise serializers.ValidationError({"intervals": _("Intervals of the same day overlap (weekday %(days)s).")
                                               % {"days": ", ".join(str(d) for d in days)}})
        dates = [e["date"] for e in attrs.get("exceptions", [])]
        if len(dates) != len(set(dates)):
            raise serializers.ValidationError({"exceptions": _("A date appears twice.")})
        country = attrs.get("holiday_country", getattr(self.instance, "holiday_country", ""))
        subdivision = attrs.get("holiday_subdivision", getattr(self.instance, "holiday_subdivision", ""))
        if country and not knows_region(country, subdivision):
            raise serializers.ValidationError({"holiday_country": UNKNOWN_REGION})
        return attrs

    def _write_rows(self, calendar: BusinessCalendar, intervals: list | None, exceptions: list | None) -> None:
        if intervals is not None:
            calendar.intervals.all().delete()
            WorkingInterval.objects.bulk_create(WorkingInterval(calendar=calendar, **row) for row in intervals)
        if exceptions is not None:
            calendar.exceptions.all().delete()
            CalendarException.objects.bulk_create(CalendarException(calendar=calendar, **row) for row in exceptions)

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> BusinessCalendar:
        intervals, exceptions = validated_data.pop("intervals", []), validated_data.pop("exceptions", [])
        calendar = BusinessCalendar.objects.create(**validated_data)
        self._write_rows(calendar, intervals, exceptions)
        return calendar

    @transaction.atomic
    def update(self, instance: BusinessCalendar, validated_data: dict[str, Any]) -> BusinessCalendar:
        """The rows first, the calendar last: saving it raises its version and recomputes the open clocks on
        it (sla.receivers) with the new hours in place."""
        intervals, exceptions = validated_data.pop("intervals", None), validated_data.pop("exceptions", None)
        self._write_rows(instance, intervals, exceptions)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        instance.save()
        return BusinessCalendar.objects.prefetch_related("intervals", "exceptions").get(pk=instance.pk)


# --- Agreements --------------------------------------------------------------------------------------------


class ServiceTargetSerializer(WholeRowMixin, serializers.ModelSerializer):
    availability = serializers.DecimalField(max_digits=6, decimal_places=3, min_value=Decimal("0.001"),
                                            max_value=Decimal("100"))

    class Meta:
        model = ServiceTarget
        fields = ["service", "availability", "calendar"]


class PriorityTargetSerializer(WholeRowMixin, serializers.ModelSerializer):
    response_minutes = serializers.IntegerField(min_value=1, max_value=10_000_000)
    resolution_minutes = serializers.IntegerField(min_value=1, max_value=10_000_000)

    class Meta:
        model = PriorityTarget
        fields = ["priority", "response_minutes", "resolution_minutes", "calendar"]


class ThresholdSerializer(WholeRowMixin, serializers.ModelSerializer):
    percent = serializers.IntegerField(min_value=1, max_value=100)

    class Meta:
        model = Threshold
        fields = ["percent", "notify_assignee", "notify_team", "notify_supervisors", "notify_department", "users"]
        extra_kwargs = {"users": {"required": False}}


def _unique(rows: list[dict[str, Any]], key: str, message: str) -> None:
    values = [row[key] for row in rows]
    if len(values) != len(set(values)):
        raise serializers.ValidationError(message)


class AgreementSerializer(serializers.ModelSerializer):
    """An agreement with its availability targets, priority targets and thresholds, written whole."""

    service_targets = ServiceTargetSerializer(many=True, required=False)
    priority_targets = PriorityTargetSerializer(many=True, required=False)
    thresholds = ThresholdSerializer(many=True, required=False)

    class Meta:
        model = Agreement
        fields = ["id", "department", "name", "valid_from", "valid_until", "calendar", "is_active", "is_default",
                  "created_at", "service_targets", "priority_targets", "thresholds"]
        read_only_fields = ["created_at"]
        # At most one default: said in validate_is_default, as a 400 naming the field (not the constraint's words).
        validators = []  # noqa: RUF012

    def validate_service_targets(self, rows: list) -> list:
        _unique(rows, "service", _("A service appears twice."))
        return rows

    def validate_priority_targets(self, rows: list) -> list:
        _unique(rows, "priority", _("A priority appears twice."))
        return rows

    def validate_thresholds(self, rows: list) -> list:
        _unique(rows, "percent", _("A threshold appears twice."))
        return rows

    def validate_is_default(self, value: bool) -> bool:
        other = other_default_agreement(self.instance or Agreement()) if value else None
        if other is not None:
            raise serializers.ValidationError(default_taken_message(other))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        end = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if start and end and end < start:
            raise serializers.ValidationError({"valid_until": _("The agreement must end after it starts.")})
        return attrs

    def _write_rows(self, agreement: Agreement, data: dict[str, Any]) -> None:
        for name, model in (("service_targets", ServiceTarget), ("priority_targets", PriorityTarget)):
            if name in data:
                model.objects.filter(agreement=agreement).delete()
                model.objects.bulk_create(model(agreement=agreement, **row) for row in data[name])
        if "thresholds" in data:
            Threshold.objects.filter(agreement=agreement).delete()
            for row in data["thresholds"]:
                users = row.pop("users", [])
                Threshold.objects.create(agreement=agreement, **row).users.set(users)

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Agreement:
        nested = {k: validated_data.pop(k) for k in ("service_targets", "priority_targets", "thresholds")
                  if k in validated_data}
        agreement = Agreement.objects.create(**validated_data)
        self._write_rows(agreement, nested)
        return agreement

    @transaction.atomic
    def update(self, instance: Agreement, validated_data: dict[str, Any]) -> Agreement:
        nested = {k: validated_data.pop(k) for k in ("service_targets", "priority_targets", "thresholds")
                  if k in validated_data}
        for field, value in validated_data.items():
            setattr(instance, field, value)
        instance.save()
        self._write_rows(instance, nested)
        return instance


# --- Breaches, outages, evaluations ------------------------------------------------------------------------


class BreachSerializer(serializers.ModelSerializer):
    """A missed target: a clock's (with its incident) or a service's availability over a month."""

    incident_number = serializers.CharField(source="incident.number", read_only=True, allow_null=True)
    service_name = serializers.CharField(source="service.name", read_only=True, allow_null=True)
    action_owner = UserRefSerializer(read_only=True)
    explained_by = UserRefSerializer(read_only=True)
    is_explained = serializers.BooleanField(read_only=True)

    class Meta:
        model = Breach
        fields = ["id", "incident", "incident_number", "service", "service_name", "month", "department", "kind",
                  "breached_at", "explanation",
                  "corrective_action", "action_owner", "action_due", "explained_by", "explained_at", "is_explained"]
        read_only_fields = fields


class BreachExplainSerializer(serializers.Serializer):
    explanation = serializers.CharField(max_length=5000)
    corrective_action = serializers.CharField(max_length=5000)
    action_owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    action_due = serializers.DateField()


class OutageSerializer(serializers.ModelSerializer):
    """An outage recorded on an incident the caller may see."""

    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.none())
    incident_number = serializers.CharField(source="incident.number", read_only=True)
    recorded_by = UserRefSerializer(read_only=True)

    class Meta:
        model = Outage
        fields = ["id", "incident", "incident_number", "service", "started_at", "ended_at", "kind", "recorded_by",
                  "recorded_at"]
        read_only_fields = ["recorded_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["incident"].queryset = Incident.objects.visible_to(request.user)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("started_at", getattr(self.instance, "started_at", None))
        end = attrs.get("ended_at", getattr(self.instance, "ended_at", None))
        if start and end and end <= start:
            raise serializers.ValidationError({"ended_at": _("An outage must end after it starts.")})
        return attrs


class EvaluationSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    month = serializers.SerializerMethodField()
    published_by = UserRefSerializer(read_only=True)
    available_transitions = AvailableTransitionsField()

    class Meta:
        model = Evaluation
        fields = ["id", "department", "department_name", "month", "state", "summary", "figures", "published_at",
                  "published_by", "available_transitions"]
        read_only_fields = fields

    def get_month(self, obj: Evaluation) -> str:
        return f"{obj.month:%Y-%m}"


class EvaluationPrepareSerializer(serializers.Serializer):
    department = serializers.IntegerField(min_value=1)
    month = serializers.RegexField(r"^\d{4}-\d{2}$", help_text="YYYY-MM")


class EvaluationPublishSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, max_length=10000)
