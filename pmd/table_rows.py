"""The table's post rows as HTML, written by format strings rather than by
the template: a 512-row page holds some 10,000 values, and the template
engine spends about 0.3 ms a row resolving and escaping them where a format
string spends a few microseconds. Every value from the post is escaped here,
by the standard library's html.escape (Django's escape is the same function
behind a lazy-text check that cost a third of the rows' time);
the markup is the one dashboard.html's table has around it (the month rows
stay in the template, a few per page)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString, mark_safe

from .templatetags.pmd_format import time_tag

if TYPE_CHECKING:
    from .grid import GridTile
    from .table import TableRow

_ROW = (
    '<tr data-post-id="{id}" data-post-item data-focus-key="row-{id}" tabindex="-1"{hidden}>'
    '<td class="col-select"><input type="checkbox" data-select-row value="{id}" '
    'data-focus-key="select-{id}" aria-label="Select “{title}”"></td>'
    '<td class="col-visibility">{visibility}</td>'
    '<td class="col-thumb"><img src="{art_url}" alt="" width="40" height="40" loading="lazy" '
    'class="pixelated"></td>'
    '<td class="col-title"><span class="truncate" id="t{id}" title="{title}">{title}</span></td>'
    '<td class="col-description">{description}</td>'
    '<td class="col-uploaded">{created}</td>'
    '<td class="col-number col-minor">{frames}</td>'
    '<td class="col-format">{file_format}</td>'
    '<td class="col-license col-minor">{license}</td>'
    '<td class="col-number col-size" title="{size_bytes} bytes">{size}</td>'
    '<td class="col-number col-minor">{width}</td>'
    '<td class="col-number col-minor">{height}</td>'
    '<td class="col-number col-counter">{reactions}</td>'
    '<td class="col-number col-counter">{comments}</td>'
    '<td class="col-number col-minor">{views}</td>'
    '<td class="col-trash">{trash}</td>'
    "</tr>"
)
_DESCRIPTION = '<span class="truncate" title="{0}">{0}</span>'
_NO_DESCRIPTION = '<span class="muted">—</span>'
_NO_LICENSE = '<span class="muted" title="No licence: all rights reserved">©</span>'
_STATUS = '<span class="row-status">{}</span> '
_EYE = (
    '<button type="button" class="icon-button" data-row-action="{action}" '
    'data-focus-key="eye-{id}" aria-label="{label} “{title}”" title="{hint}">'
    '<span aria-hidden="true">{icon}</span><span class="action-text"> {label}</span></button>'
)
_MODERATED = (
    ' <span class="mod-mark" title="Hidden by moderator: your unhide does not lift it">'
    '<span aria-hidden="true">🛡️</span><span class="mod-text"> Hidden by moderator</span></span>'
)
_DELETED = '<span class="deleted-when"><span class="card-label">Deleted </span>{}</span>'
_DELETE = (
    '<button type="button" class="icon-button" data-row-action="delete" '
    'data-focus-key="trash-{id}" aria-haspopup="dialog" aria-label="Delete “{title}”" '
    'title="Delete"><span aria-hidden="true">🗑️</span><span class="action-text"> Delete</span>'
    "</button>"
)
_RESTORE = (
    '<button type="button" class="icon-button" data-row-action="restore" '
    'data-focus-key="trash-{id}" aria-label="Restore “{title}”" title="Restore">'
    '<span aria-hidden="true">↩️</span><span class="action-text"> Restore</span></button>'
)


# The eye button of a row or tile, by whether its owner hid the post:
# (action, label, hint, icon).
_EYE_WORDS = {
    True: ("unhide", "Unhide", "Hidden — unhide", "🙈"),
    False: ("hide", "Hide", "Visible — hide", "👁️"),
}


def _visibility(row: TableRow, title: str, deleted_view: bool) -> str:
    moderated = _MODERATED if row.hidden_by_mod else ""
    if deleted_view:
        return _DELETED.format(time_tag(row.deleted_at)) + moderated
    if row.hidden_by_user:
        status = _STATUS.format("Hidden")
    else:
        status = "" if row.hidden_by_mod else _STATUS.format("Visible")
    action, label, hint, icon = _EYE_WORDS[row.hidden_by_user]
    eye = _EYE.format(action=action, id=row.id, label=label, title=title, hint=hint, icon=icon)
    return status + eye + moderated


def row_html(row: TableRow, *, deleted_view: bool) -> SafeString:
    """One post's <tr>: under "Recently deleted" with when it was deleted and Restore."""
    title = escape(row.title)
    description = escape(row.description)
    return mark_safe(  # noqa: S308 - every value is escaped above or is our own markup
        _ROW.format(
            id=row.id,
            hidden=' class="is-hidden"' if row.hidden else "",
            title=title,
            visibility=_visibility(row, title, deleted_view),
            art_url=escape(row.art_url),
            description=_DESCRIPTION.format(description) if description else _NO_DESCRIPTION,
            # Our own <time> markup (pmd_format.time_tag), its values escaped there.
            created=time_tag(row.created_at),
            frames=row.frames,
            file_format=escape(row.file_format),
            license=escape(row.license) if row.license else _NO_LICENSE,
            size_bytes=row.size_bytes,
            size=escape(row.size),
            width=row.width,
            height=row.height,
            reactions=row.reactions,
            comments=row.comments,
            views=row.views,
            trash=(_RESTORE if deleted_view else _DELETE).format(id=row.id, title=title),
        )
    )


_TILE = (
    '<li class="tile{hidden}" data-post-item data-post-id="{id}" data-focus-key="row-{id}" '
    'tabindex="-1">'
    '<input type="checkbox" class="tile-select" data-select-row value="{id}" '
    'data-focus-key="select-{id}" aria-label="Select “{title}”">'
    '<span class="tile-art"><img class="pixelated" src="{src}"{animation} width="{width}" '
    'height="{height}" alt="" loading="lazy"></span>'
    '<span class="tile-title truncate" title="{title}">{title}</span>'
    '<span class="tile-meta muted">{size} at {zoom}×{frames}{state}</span>'
    '<span class="tile-actions">{actions}</span>'
    "</li>"
)
_TILE_MODERATED = (
    ' · <span title="Hidden by moderator: your unhide does not lift it">Hidden by moderator</span>'
)
_TILE_BUTTON = (
    '<button type="button" class="icon-button" data-row-action="{action}" '
    'data-focus-key="{key}-{id}"{popup} aria-label="{label} “{title}”" title="{hint}">'
    '<span aria-hidden="true">{icon}</span></button>'
)


def _tile_actions(row: TableRow, title: str, deleted_view: bool) -> str:
    def button(action: str, key: str, label: str, hint: str, icon: str, popup: str = "") -> str:
        return _TILE_BUTTON.format(
            action=action, key=key, id=row.id, popup=popup, label=label, title=title,
            hint=hint, icon=icon,
        )  # fmt: skip

    if deleted_view:
        return button("restore", "trash", "Restore", "Restore", "↩️")
    action, label, hint, icon = _EYE_WORDS[row.hidden_by_user]
    eye = button(action, "eye", label, hint, icon)
    delete = button("delete", "trash", "Delete", "Delete", "🗑️", ' aria-haspopup="dialog"')
    return eye + delete


def tile_html(row: TableRow, tile: GridTile, *, deleted_view: bool) -> SafeString:
    """One post's grid tile (<li>): its art at the tile's whole zoom, an
    animation's first frame until hovered or focused (pmd-table.js swaps in
    data-animated), and the row's actions."""
    title = escape(row.title)
    art_url = escape(row.art_url)
    if tile.animated:
        still_url = escape(tile.still_url)
        src, animation = still_url, f' data-still="{still_url}" data-animated="{art_url}"'
    else:
        src, animation = art_url, ""
    state = _TILE_MODERATED if row.hidden_by_mod else " · Hidden" if row.hidden else ""
    return mark_safe(  # noqa: S308 - every value is escaped above or is our own markup
        _TILE.format(
            id=row.id,
            hidden=" is-hidden" if row.hidden else "",
            title=title,
            src=src,
            animation=animation,
            width=tile.width,
            height=tile.height,
            size=f"{row.width}×{row.height}",
            zoom=tile.zoom,
            frames=f" · {row.frames} frames" if tile.animated else "",
            state=state,
            actions=_tile_actions(row, title, deleted_view),
        )
    )
