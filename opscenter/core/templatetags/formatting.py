"""Filters every page uses without loading them (a builtin of the template engine, see TEMPLATES)."""

from django import template

from opscenter.core.formatting import local_datetime

register = template.Library()

register.filter("local_datetime", local_datetime, expects_localtime=False)
