"""The JSON API's conventions, shared by its routers (pmd/views/api_*.py).

Requests and responses are strict typed schemas, so the OpenAPI description
is exactly what the code takes and gives. Anonymous callers get 401 (never
a redirect); every error is `{"error": "<message for a person>"}`; bad input
is a 400 (never ninja's 422) and never a 5xx. The API itself, its routers
added in one place, is pmd/api.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import SessionAuth
from ninja.utils import check_csrf
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from pmd.access import api_owner
from pmd.errors import DomainError
from pmd.refusals import json_error, refusal_response
from pmd_project.lib import inputs
from pmd_project.lib.inputs import BadInput

LOGIN_REQUIRED = "Log in to use the PMD API."
CSRF_REFUSED = (
    "The request's security token (CSRF) is missing or out of date; reload the page and try again."
)


class Strict(BaseModel):
    """A request or response body: no property beyond those declared, so the
    published description is exactly what the code takes and gives."""

    model_config = ConfigDict(extra="forbid")


class Request(Strict):
    @model_validator(mode="before")
    @classmethod
    def _check_missing_fields_too(cls, data: Any) -> Any:
        # A missing required field goes through its parser as None, so the
        # error says what to send ("post_ids must be a list of post ids.").
        if not isinstance(data, dict):
            return data
        missing = {name: None for name, field in cls.model_fields.items() if field.is_required()}
        return missing | data


def post_id_list(limit_setting: str) -> Any:
    """A body field holding distinct post ids, at most settings.<limit_setting>
    of them: parsed by pmd_project.lib.inputs, described as it parses."""
    limit = getattr(settings, limit_setting)
    return Annotated[
        list[int],
        BeforeValidator(
            lambda value: inputs.post_ids(value, limit=getattr(settings, limit_setting))
        ),
        WithJsonSchema(
            {
                "type": "array",
                "items": {"type": "integer", "format": "int64", "minimum": 1},
                "minItems": 1,
                "maxItems": limit,
                "description": f"At most {limit} distinct ids; duplicates count once.",
            }
        ),
    ]


Count = Annotated[int, Field(ge=0)]


def _license_text(value: object) -> object:
    # Whether it names a licence is the rules' to say (pmd.actions.values).
    if value is not None and not isinstance(value, str):
        raise BadInput('license must be a licence identifier such as "CC-BY-4.0", or null.')
    return value


# A licence's SPDX identifier ("CC-BY-4.0"), or null for none. Whether the
# field was sent at all is the request's model_fields_set.
LicenseId = Annotated[
    str | None,
    BeforeValidator(_license_text),
    WithJsonSchema(
        {
            "type": ["string", "null"],
            "maxLength": 64,
            "description": (
                'A licence\'s SPDX identifier ("CC-BY-4.0"), or null for none (all rights '
                "reserved). POST action: required by set_license, refused by the others."
            ),
        }
    ),
]

# true or false, nothing a JSON parser could coerce ("yes", 1, null).
Flag = Annotated[
    bool, BeforeValidator(lambda value, info: inputs.flag(value, name=info.field_name))
]


class Error(Strict):
    error: str = Field(min_length=1)


def errors(*statuses: int) -> dict[tuple[int, ...], type[Error]]:
    """Response declarations for the error statuses an operation can give."""
    return {statuses: Error}


class CsrfRefused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class DjangoSession(SessionAuth):
    """Django's session; unsafe methods also pass Django's own CSRF check
    (X-CSRFToken), whose refusal is pmd.api.csrf_failure's JSON."""

    def _get_key(self, request: HttpRequest) -> str | None:
        refusal = check_csrf(request)
        if refusal is not None:
            raise CsrfRefused(refusal)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user:
            # Every operation acts for this owner: the caller, or with
            # ?target_sqid= the user support acts for (pmd.access.owner_of).
            request.pmd_owner = api_owner(request)  # type: ignore[attr-defined]
        return user


class SignedIn(HttpRequest):
    """A request DjangoSession let through: every operation of the API has a
    logged-in caller, never AnonymousUser."""

    user: User


# Operations whose body may name up to PMD_JOB_LIMIT posts.
LARGE_BODY_URL_NAMES = frozenset({"api-job-list"})


class JsonObjectParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        match = request.resolver_match
        large = match is not None and match.url_name in LARGE_BODY_URL_NAMES
        limit = inputs.MAX_JOB_BODY_BYTES if large else inputs.MAX_BODY_BYTES
        return inputs.json_object(request.body, limit=limit)


class PmdApi(NinjaAPI):
    """NinjaAPI with the PMD's answers: JSON without a charset, operation ids
    named after their functions, and every error as `{"error": …}`."""

    def get_content_type(self) -> str:
        return "application/json"  # as Django's JsonResponse, without a charset

    def get_openapi_operation_id(self, operation: Any) -> str:
        return operation.view_func.__name__

    def set_default_exception_handlers(self) -> None:
        super().set_default_exception_handlers()
        # ninja's hint wants each handler to take the exception's class too;
        # it is only ever called with an instance.
        handle = cast(
            Callable[[type[Exception], Callable[..., HttpResponse]], None],
            self.add_exception_handler,
        )
        handle(BadInput, _bad_input)
        handle(HttpError, _http_error)
        handle(ValidationError, _invalid)
        handle(CsrfRefused, lambda request, error: error.response)
        # What the rules refuse (pmd.errors), answered as everywhere (pmd.refusals).
        handle(DomainError, lambda request, error: refusal_response(error))
        for error, status, text in (
            (AuthenticationError, 401, LOGIN_REQUIRED),
            (RequestDataTooBig, 413, "The request body is too large."),
            (Http404, 404, "There is nothing at this address."),
        ):
            handle(error, lambda request, _, s=status, t=text: json_error(t, s))


def _bad_input(request: HttpRequest, error: BadInput) -> HttpResponse:
    return json_error(error.message, error.status)


def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # ninja wraps what the body parser raises; say what was really wrong.
    if isinstance(error.__cause__, BadInput):
        return _bad_input(request, error.__cause__)
    return json_error(error.message, error.status_code)


def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """What schema validation refused, as a 400 a person can read (bad input
    is a 400, not ninja's 422)."""
    first = error.errors[0]
    where = first["loc"][0]
    # Body errors sit under the operation's body argument; leave it out.
    field = ".".join(str(part) for part in first["loc"][2 if where == "body" else 1 :])
    if not field:
        message = "The request body must be a JSON object."
    elif first["type"] == "extra_forbidden":
        message = f"Unknown field {field!r}; leave it out."
    else:
        message = f"{field}: {first['msg']}."
    return json_error(message, 400)
