"""How times and sizes read on every page and in the admin: Django's
`naturaltime` and `filesizeformat`, with the exact UTC time on hover. The
dashboard table calls these once per row in Python (pmd/table.py), templates
as filters, so the table, the download panel and recent activity agree."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def exact_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def time_tag(value: datetime | None) -> SafeString | str:
    """`<time>` reading "3 days, 5 hours ago", the exact time in its title."""
    if value is None:
        return ""
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        exact_time(value),
        naturaltime(value),
    )
