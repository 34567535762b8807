"""How times and sizes read on every page and in the admin: Django's
`naturaltime` and `filesizeformat`, with the exact UTC time on hover. The
dashboard table calls these once per row in Python (pmd/table.py), templates
as filters, so the table, the download panel and recent activity agree."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def exact_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def time_tag(value: datetime | None) -> SafeString | str:
    """`<time>` reading "3 days, 5 hours ago", the exact time in its title."""
    if value is None:
        return ""
    # A format string, not format_html: the table writes one per row, and
    # format_html's lazy-aware escaping of each value cost more than the rest
    # of the tag. The ISO and exact times are digits and separators only;
    # the words are escaped.
    return mark_safe(  # noqa: S308 - the one free text in it is escaped
        f'<time datetime="{value.isoformat()}" title="{exact_time(value)}">'
        f"{escape(str(naturaltime(value)))}</time>"
    )
