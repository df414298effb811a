"""The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from guichet.journeys.paths import PATHS

_error = {"type": "object", "properties": {"error": {"$ref": "#/components/schemas/Notice"}}}
_slug = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_name = {"name": "name", "in": "path", "required": True,
         "schema": {"type": "string", "enum": list(PATHS)}}   # every journey has its page, hence its name here
_run = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Guichet journeys API", "version": "1",
             "description": "Every journey step as JSON: the same screens, codes and rules as the HTML pages. "
                            "Session cookies are used; POST requests need the X-CSRFToken header."},
    "paths": {
        "/api/csrf": {"get": {"summary": "A CSRF token for the POST requests",
                              "responses": {"200": _json({"type": "object", "properties": {
                                  "csrf_token": {"type": "string"}}}, "The token")}}},
        "/api/o/{slug}/journeys/{name}": {"post": {
            "summary": "Start a journey", "parameters": [_slug, _name],
            "responses": {"201": _json({"$ref": "#/components/schemas/Screen"}, "The first screen"),
                          "404": _json(_error, "Unknown organisation or journey")}}},
        "/api/o/{slug}/journeys/{name}/{run_id}": {
            "get": {"summary": "The current screen of a run", "parameters": [_slug, _name, _run],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Screen"}, "The screen"),
                                  "410": _json(_error, "The run expired or is not yours")}},
            "post": {"summary": "Submit the current step", "parameters": [_slug, _name, _run],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "properties": {
                             "action": {"type": "string"},
                             "values": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
                     "responses": {
                         "200": _json({"oneOf": [{"$ref": "#/components/schemas/Screen"},
                                                 {"$ref": "#/components/schemas/Outcome"}]}, "Next screen or outcome"),
                         "400": _json(_error, "Not JSON"),
                         "422": _json({"$ref": "#/components/schemas/Screen"}, "The same screen with errors"),
                         "410": _json(_error, "The run expired or is not yours")}}},
        "/api/o/{slug}/session": {"get": {"summary": "Who is signed in", "parameters": [_slug], "responses": {
            "200": _json({"type": "object"}, "Signed in"), "401": _json({"type": "object"}, "Not signed in")}}},
        "/api/o/{slug}/logout": {"post": {"summary": "Sign out", "parameters": [_slug], "responses": {
            "200": _json({"type": "object", "properties": {
                "signed_in": {"type": "boolean"},
                "redirect": {"type": "string", "description": "When the member signed in through an upstream "
                             "provider: send the browser here to end that provider's session too"}}},
                "Signed out")}}},
    },
    "components": {"schemas": {
        "Notice": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string", "description": "Stable message code"}, "text": {"type": "string"},
            "level": {"type": "string", "enum": ["error", "info", "success", "warning"]}}},
        "Field": {"type": "object", "required": ["name", "kind", "label"], "properties": {
            "name": {"type": "string"}, "kind": {"type": "string"}, "label": {"type": "string"},
            "required": {"type": "boolean"}, "value": {"type": "string"}, "hint": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Notice"}}}},
        "Screen": {"type": "object", "required": ["title", "fields", "actions"], "properties": {
            "run": {"type": ["string", "null"]}, "step": {"type": ["string", "null"]}, "title": {"type": "string"},
            "notices": {"type": "array", "items": {"$ref": "#/components/schemas/Notice"}},
            "fields": {"type": "array", "items": {"$ref": "#/components/schemas/Field"}},
            "actions": {"type": "array", "items": {"type": "object"}},
            "links": {"type": "array", "items": {"type": "object"}}}},
        "Outcome": {"type": "object", "required": ["outcome"], "properties": {
            "outcome": {"type": "string", "enum": ["signed_in", "redirect", "done"]},
            "redirect": {"type": "string"}}},
    }},
}
