"""The JSON API's conventions on django-ninja: the served OpenAPI
description is strict and complete, errors are 400 `{"error"}` (never 422),
and the SSE stream keeps its own view. (The post-id parser's cases are in
tests/test_inputs.py.)"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import resolve

from pmd.api import LOGIN_REQUIRED
from pmd.refusals import json_error
from pmd.views import live


@pytest.fixture(scope="module")
def document():
    return Client().get("/api/pmd/openapi.json").json()


def _objects(schema):
    """Every object schema inside `schema`."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            yield schema
        for value in schema.values():
            yield from _objects(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _objects(value)


class TestTheDescription:
    def test_every_body_schema_forbids_extra_properties(self, document):
        bodies = {
            name: schema
            for name, schema in document["components"]["schemas"].items()
            if name not in ("Page", "Filters")  # query parameters, not bodies
        }
        assert {"ActionRequest", "ActionResult", "BdrCreated", "BdrItem", "Error"} <= set(bodies)
        for name, schema in bodies.items():
            for part in _objects(schema):
                assert part.get("additionalProperties") is False, name

    def test_it_describes_what_the_operations_really_return(self, document):
        schemas = document["components"]["schemas"]
        assert {"action", "requested_count"} <= set(schemas["ActionResult"]["required"])
        assert "requests_left" in schemas["BdrCreated"]["required"]
        assert "message" in schemas["BdrRetried"]["required"]

    def test_every_operation_lists_its_errors_with_the_error_schema(self, document):
        error = {"$ref": "#/components/schemas/Error"}
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                responses = operation["responses"]
                assert "401" in responses, (method, path)
                if method == "post":
                    assert {"401", "403"} <= set(responses), path
                for status, response in responses.items():
                    if status.startswith("4") and status != "416":
                        content = response["content"]["application/json"]
                        assert content["schema"] == error, (method, path, status)
        assert "429" in document["paths"]["/api/pmd/bdr"]["post"]["responses"]
        download = document["paths"]["/api/pmd/bdr/{pk}/download"]["get"]["responses"]
        assert {"200", "206", "404", "409", "410", "416"} <= set(download)

    def test_it_is_public_and_leaves_out_the_event_stream(self, document):
        assert "/api/pmd/bdr/sse" not in document["paths"]
        assert document["components"]["securitySchemes"]["DjangoSession"]["in"] == "cookie"


class TestErrors:
    def test_a_field_the_schema_does_not_know_is_400(self, owner, owner_client):
        response = owner_client.post(
            "/api/pmd/action",
            {"action": "hide", "post_ids": [1], "colour": "red"},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert response.json() == {"error": "Unknown field 'colour'; leave it out."}

    def test_a_flag_that_is_not_a_boolean_is_400_naming_it(self, owner_client):
        response = owner_client.post(
            "/api/pmd/bdr", {"post_ids": [1], "send_email": "yes"}, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json() == {"error": "send_email must be true or false."}

    def test_a_wrong_method_lists_the_allowed_ones_in_order(self, owner_client):
        response = owner_client.delete("/api/pmd/bdr")
        assert response.status_code == 405
        assert response["Allow"] == "GET, POST"

    def test_an_unknown_api_address_is_a_json_404(self, owner_client):
        response = owner_client.get("/api/pmd/")
        assert response.status_code == 404
        assert set(response.json()) == {"error"}

    def test_the_shared_helpers_stay_importable(self):
        assert json_error(LOGIN_REQUIRED, 401).status_code == 401


def test_the_event_stream_keeps_its_own_view():
    assert resolve("/api/pmd/bdr/sse").func is live.bdr_events
    assert Client().get("/api/pmd/bdr/sse").status_code == 401
