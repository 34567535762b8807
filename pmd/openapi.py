"""OpenAPI 3 description of the PMD JSON API (SPEC §6), served at
/api/pmd/openapi.json and used by the schemathesis run in the test suite.

The event stream (`GET /api/pmd/bdr/sse`) is described in the README rather
than here: a stream that never ends is not something a schema tester can call.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
UNAUTHENTICATED = _error("Not logged in")
FORBIDDEN = _error("CSRF token missing or wrong")
BDR_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _post_ids(limit: int) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "integer", "format": "int64", "minimum": 1},
        "minItems": 1,
        "maxItems": limit,
        "description": f"At most {limit} distinct ids; duplicates count once.",
    }


def openapi_document() -> dict[str, Any]:
    list_limit = settings.PMD_LIST_LIMIT
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Post Management Dashboard API",
            "version": "1.0",
            "description": (
                "Session-authenticated JSON API of the PMD. Unsafe methods need the CSRF token "
                'in an X-CSRFToken header. Every error body is {"error": <message>}.'
            ),
        },
        "servers": [{"url": settings.SITE_URL}],
        "security": [{"session": []}],
        "paths": {
            "/api/pmd/posts": {
                "get": {
                    "operationId": "listPosts",
                    "summary": "The caller's artwork posts, newest first, by cursor",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": list_limit},
                        },
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _json("PostList"),
                        "400": _error("Bad limit or cursor"),
                        "401": UNAUTHENTICATED,
                    },
                }
            },
            "/api/pmd/posts/ids": {
                "get": {
                    "operationId": "listPostIds",
                    "summary": "Ids of the posts matching the table's search and filters",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": list_limit},
                        },
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "visibility",
                            "in": "query",
                            "schema": {"enum": ["all", "visible", "hidden"]},
                        },
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {"enum": ["all", "png", "gif", "webp", "bmp"]},
                        },
                        {"name": "view", "in": "query", "schema": {"enum": ["live", "deleted"]}},
                    ],
                    "responses": {
                        "200": _json("PostIds"),
                        "400": _error("Bad limit or cursor"),
                        "401": UNAUTHENTICATED,
                    },
                }
            },
            "/api/pmd/action": {
                "post": {
                    "operationId": "runAction",
                    "summary": "Hide, unhide, delete or restore up to "
                    f"{settings.PMD_ACTION_LIMIT} posts",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ActionRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json("ActionResult"),
                        "400": _error("Bad input; nothing changed"),
                        "401": UNAUTHENTICATED,
                        "403": FORBIDDEN,
                        "413": _error("Body too large"),
                    },
                }
            },
            "/api/pmd/bdr": {
                "get": {
                    "operationId": "listDownloadRequests",
                    "summary": "The caller's 20 newest download requests",
                    "responses": {"200": _json("BdrList"), "401": UNAUTHENTICATED},
                },
                "post": {
                    "operationId": "createDownloadRequest",
                    "summary": f"Request a ZIP of up to {settings.PMD_BDR_LIMIT} artworks",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/BdrRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": _json("BdrCreated", "Created"),
                        "400": _error("Bad input; nothing created"),
                        "401": UNAUTHENTICATED,
                        "403": FORBIDDEN,
                        "413": _error("Body too large"),
                        "429": _error("Today's requests are used up"),
                    },
                },
            },
            "/api/pmd/bdr/{id}": {
                "get": {
                    "operationId": "getDownloadRequest",
                    "parameters": [BDR_ID],
                    "responses": {
                        "200": _json("Bdr"),
                        "401": UNAUTHENTICATED,
                        "404": _error("Unknown, or not the caller's"),
                    },
                }
            },
            "/api/pmd/bdr/{id}/download": {
                "get": {
                    "operationId": "downloadZip",
                    "parameters": [BDR_ID],
                    "responses": {
                        "200": {
                            "description": "The ZIP",
                            "content": {"application/zip": {"schema": {"type": "string"}}},
                        },
                        "206": {
                            "description": "Part of the ZIP (Range)",
                            "content": {"application/zip": {"schema": {"type": "string"}}},
                        },
                        "401": UNAUTHENTICATED,
                        "404": _error("Unknown, or not the caller's"),
                        "409": _error("Not ready yet"),
                        "410": _error("Expired"),
                        "416": {"description": "Range outside the file"},
                    },
                }
            },
            "/api/pmd/bdr/{id}/retry": {
                "post": {
                    "operationId": "retryDownloadRequest",
                    "parameters": [BDR_ID],
                    "responses": {
                        "201": _json("BdrCreated", "Created"),
                        "401": UNAUTHENTICATED,
                        "403": FORBIDDEN,
                        "404": _error("Unknown, or not the caller's"),
                        "409": _error("Only a failed request can be retried"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string", "minLength": 1}},
                },
                "Post": {
                    "type": "object",
                    "required": [
                        "id",
                        "public_sqid",
                        "title",
                        "description",
                        "created_at",
                        "width",
                        "height",
                        "frame_count",
                        "file_format",
                        "file_bytes",
                        "art_url",
                        "hidden_by_user",
                        "reaction_count",
                        "comment_count",
                        "view_count",
                    ],  # fmt: skip
                    "properties": {
                        "id": {"type": "integer"},
                        "public_sqid": {"type": "string"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "created_at": DATETIME,
                        "width": {"type": "integer", "minimum": 0},
                        "height": {"type": "integer", "minimum": 0},
                        "frame_count": {"type": "integer", "minimum": 0},
                        "file_format": {"enum": ["png", "gif", "webp", "bmp"]},
                        "file_bytes": {"type": "integer", "minimum": 0},
                        "art_url": {"type": "string"},
                        "hidden_by_user": {"type": "boolean"},
                        "reaction_count": {"type": "integer", "minimum": 0},
                        "comment_count": {"type": "integer", "minimum": 0},
                        "view_count": {"type": "integer", "minimum": 0},
                    },
                },
                "PostList": {
                    "type": "object",
                    "required": ["items", "next_cursor", "total_count"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Post"}},
                        "next_cursor": {"type": ["string", "null"]},
                        "total_count": {"type": "integer", "minimum": 0},
                    },
                },
                "PostIds": {
                    "type": "object",
                    "required": ["ids", "next_cursor", "total_count"],
                    "properties": {
                        "ids": {"type": "array", "items": {"type": "integer"}},
                        "next_cursor": {"type": ["string", "null"]},
                        "total_count": {"type": "integer", "minimum": 0},
                    },
                },
                "ActionRequest": {
                    "type": "object",
                    "required": ["action", "post_ids"],
                    "properties": {
                        "action": {"enum": ["hide", "unhide", "delete", "restore"]},
                        "post_ids": _post_ids(settings.PMD_ACTION_LIMIT),
                    },
                },
                "ActionResult": {
                    "type": "object",
                    "required": ["success", "affected_count", "message"],
                    "properties": {
                        "success": {"const": True},
                        "affected_count": {"type": "integer", "minimum": 0},
                        "message": {"type": "string"},
                    },
                },
                "BdrRequest": {
                    "type": "object",
                    "required": ["post_ids"],
                    "properties": {
                        "post_ids": _post_ids(settings.PMD_BDR_LIMIT),
                        "include_comments": {"type": "boolean"},
                        "include_reactions": {"type": "boolean"},
                        "send_email": {"type": "boolean"},
                    },
                },
                "BdrCreated": {
                    "type": "object",
                    "required": ["id", "status", "artwork_count", "created_at", "message"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "status": {"const": "pending"},
                        "artwork_count": {"type": "integer", "minimum": 1},
                        "created_at": DATETIME,
                        "message": {"type": "string"},
                    },
                },
                "Bdr": {
                    "type": "object",
                    "required": [
                        "id",
                        "status",
                        "artwork_count",
                        "progress",
                        "created_at",
                        "started_at",
                        "completed_at",
                        "expires_at",
                        "error_message",
                        "download_url",
                    ],  # fmt: skip
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "status": {"enum": ["pending", "processing", "ready", "failed", "expired"]},
                        "artwork_count": {"type": "integer", "minimum": 0},
                        "progress": {"type": "integer", "minimum": 0},
                        "created_at": DATETIME,
                        "started_at": NULLABLE_DATETIME,
                        "completed_at": NULLABLE_DATETIME,
                        "expires_at": NULLABLE_DATETIME,
                        "error_message": {"type": "string"},
                        "download_url": {"type": ["string", "null"]},
                    },
                },
                "BdrList": {
                    "type": "object",
                    "required": ["items"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Bdr"}}
                    },
                },
            },
        },
    }
