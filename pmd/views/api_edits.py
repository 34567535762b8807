"""POST /api/pmd/edit/preview and POST /api/pmd/edit: the bulk edit of
titles, descriptions and licences, previewed first (pmd.bulk_edit). Its undo
is POST /api/pmd/action/undo with the edit's activity_id, as for the actions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router
from pydantic import BeforeValidator, Field, WithJsonSchema

from pmd.access import actor_of, owner_of
from pmd.bulk_edit import edit_apply, edit_current, edit_preview, edit_spec
from pmd.edits import MAX_LENGTH, MAX_PATTERN_LENGTH, OPS
from pmd.views.api_conventions import Count, LicenseId, Request, Strict, errors, post_id_list
from pmd_project.lib.inputs import BadInput

router = Router()


def _object(value: object, info: Any) -> object:
    # Its fields are the rules' to read (pmd.edits), with their own words.
    if value is not None and not isinstance(value, dict):
        raise BadInput(
            f'{info.field_name} must be an object such as {{"op": "set", "value": "…"}}.'
        )
    return value


def _op_schema(name: str) -> dict[str, Any]:
    return {
        "type": ["object", "null"],
        "description": (
            f"How to change the {name}; leave it out (or null) to keep each post's. set: "
            "value replaces it; prefix and suffix add value; replace: every find (literal) "
            "becomes value; regex: find is a regular expression and value may name its "
            "groups (\\1, \\g<name>). ignore_case goes with replace and regex."
        ),
        "properties": {
            "op": {"type": "string", "enum": list(OPS)},
            "value": {"type": "string", "maxLength": MAX_LENGTH[name]},
            "find": {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_LENGTH},
            "ignore_case": {"type": "boolean"},
        },
        "required": ["op"],
        "additionalProperties": False,
    }


TitleOp = Annotated[
    dict[str, Any] | None, BeforeValidator(_object), WithJsonSchema(_op_schema("title"))
]
DescriptionOp = Annotated[
    dict[str, Any] | None, BeforeValidator(_object), WithJsonSchema(_op_schema("description"))
]


class EditRequest(Request):
    post_ids: post_id_list("PMD_ACTION_LIMIT")  # type: ignore[valid-type]
    title: TitleOp = None
    description: DescriptionOp = None
    license: LicenseId = None

    def spec(self):
        return edit_spec(
            title=self.title,
            description=self.description,
            # Left out keeps each post's licence; null sets none.
            **({"license": self.license} if "license" in self.model_fields_set else {}),
        )


class CurrentRequest(Request):
    post_ids: post_id_list("PMD_LIST_LIMIT")  # type: ignore[valid-type]


class FieldNow(Strict):
    value: str | None
    mixed: Annotated[bool, Field(description="The posts' values differ; value is the first's.")]


class CurrentResult(Strict):
    title: FieldNow
    description: FieldNow
    license: FieldNow


class ApplyRequest(EditRequest):
    token: Annotated[
        str, Field(min_length=1, max_length=16_000, description="The preview's token.")
    ]


class PostReason(Strict):
    id: int
    reason: str


class Sample(Strict):
    id: int
    field: Annotated[
        str, WithJsonSchema({"type": "string", "enum": ["title", "description", "license"]})
    ]
    before: str | None
    after: str | None


class PreviewResult(Strict):
    changed: Count
    unchanged: Count
    invalid: Annotated[
        list[PostReason], Field(description="Posts the edit cannot be applied to, and why.")
    ]
    samples: Annotated[
        list[Sample], Field(description="The first 50 changes: a post's field before and after.")
    ]
    token: Annotated[str, Field(description="POST edit takes it with the same body.")]


class ApplyResult(Strict):
    affected_count: Count
    skipped: Annotated[
        list[PostReason],
        Field(description="Posts left as they were: changed since the preview, or invalid."),
    ]
    message: str
    activity_id: Annotated[
        int, Field(ge=1, description="The audit entry: POST /api/pmd/action/undo takes it.")
    ]
    changed_ids: list[int]


@router.post(
    "/preview",
    response={200: PreviewResult, **errors(400, 401, 403, 413)},
    url_name="api-edit-preview",
)
def preview_edit(request: HttpRequest, body: EditRequest) -> PreviewResult:
    """What an edit would do to up to PMD_ACTION_LIMIT of the caller's posts; writes nothing."""
    preview = edit_preview(owner=owner_of(request), post_ids=body.post_ids, spec=body.spec())
    return PreviewResult(**asdict(preview))


@router.post(
    "/current",
    response={200: CurrentResult, **errors(400, 401, 403, 413)},
    url_name="api-edit-current",
)
def current_values(request: HttpRequest, body: CurrentRequest) -> CurrentResult:
    """Each editable field's value across up to PMD_LIST_LIMIT of the caller's
    posts, and whether they differ ("Mixed" in the edit dialog)."""
    return CurrentResult(**edit_current(owner=owner_of(request), post_ids=body.post_ids))


@router.post("", response={200: ApplyResult, **errors(400, 401, 403, 413)}, url_name="api-edit")
def apply_edit(request: HttpRequest, body: ApplyRequest) -> ApplyResult:
    """The previewed edit (its token, the same body); posts changed since are skipped."""
    result = edit_apply(
        owner=owner_of(request),
        post_ids=body.post_ids,
        spec=body.spec(),
        token=body.token,
        actor=actor_of(request),
    )
    return ApplyResult(**asdict(result))
