"""Property tests of the JSON API against its own OpenAPI schema (schemathesis): no server errors,
status codes and bodies as documented. Bounded: a few examples per operation, no deadline.
Runs with the access token (a Bearer header), so state-changing calls really run."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from web_helpers import demo_library

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import positive_data_acceptance  # noqa: E402

from paperradar.web import create_app  # noqa: E402
from paperradar.web.security import hash_token  # noqa: E402

TOKEN = "schema-test-token"


@pytest.fixture(scope="module")
def web_app(tmp_path_factory):
    from paperradar.embed import load_embedder
    from paperradar.index import update_index
    from paperradar.storage import open_library

    path = demo_library(tmp_path_factory.mktemp("schema") / "lib.db")
    lib = open_library(path)
    update_index(lib, load_embedder("fast"))  # so semantic and hybrid search answer too
    lib.close()
    return create_app(path, token_hash=hash_token(TOKEN))


EXAMPLES = 10  # per operation
# A schema cannot say everything a valid request needs (an importable text, ids that exist, a
# profile with papers), so a 400 for a schema-valid request is allowed; everything else is checked.
LENIENT = [positive_data_acceptance]
# /api/import runs each import in a freshly spawned worker and waits `wait` seconds for it (default
# 300): on a loaded machine the spawn alone takes ~10 s, and embedding new papers far more. With
# schemathesis' 10 s client timeout the first import of new papers timed out and its replay (the
# papers now unchanged, nothing to embed) did not: hypothesis' "Flaky" failure. So the fuzz caps
# `wait` (a job still running then answers its documented 202) and the client waits far longer
# than that: whether the test passes no longer depends on the machine's speed.
IMPORT_WAIT = 20
CLIENT_TIMEOUT = 600


def bounded(case):  # type: ignore[no-untyped-def]
    """The case with /api/import's `wait` capped at IMPORT_WAIT (malformed values are kept)."""
    if case.operation.path == "/api/import":
        query = dict(case.query or {})
        wait = query.get("wait", IMPORT_WAIT + 1)
        if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > IMPORT_WAIT:
            query["wait"] = IMPORT_WAIT
        case.query = query
    return case


@pytest.fixture(scope="module")
def api_schema(web_app):
    return schemathesis.openapi.from_asgi("/openapi.json", web_app)


def test_api_matches_its_schema(api_schema):
    # (schemathesis' own pytest plugin does not run under pytest 9, so hypothesis drives it here)
    ran = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case):  # type: ignore[no-untyped-def]
            bounded(case).call_and_validate(
                headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=LENIENT, timeout=CLIENT_TIMEOUT
            )

        check()
        ran.append(operation.label)
    assert len(ran) >= 15


def test_schema_is_valid_openapi(web_app):
    from fastapi.testclient import TestClient

    spec = TestClient(web_app).get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    assert {"/api/search", "/api/papers/{ref}", "/api/library", "/api/import", "/api/home"} <= paths
    assert paths and all(p.startswith("/api/") for p in paths)  # the pages are not part of the API schema


# names no response body may carry (a new token is shown once, by POST /api/me/token: `token`)
SECRET_NAMES = {"password", "password_hash", "secret", "token_hash", "link_secret", "hash"}


def response_schemas(spec: dict) -> dict[str, dict]:
    """Each JSON operation's 200 body schema, by "METHOD path" (exports and Atom feeds aside)."""
    out = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op["responses"].get("200", {}).get("content", {})
            if set(content) == {"application/json"}:
                out[f"{method.upper()} {path}"] = content["application/json"]["schema"]
    return out


def test_every_json_route_declares_its_body(web_app):
    """Every JSON route names a response model (web/schemas.py), so schemathesis checks its bodies
    against a real schema; an empty one (`{}`) would let any body pass."""
    spec = web_app.openapi()
    bodies = response_schemas(spec)
    assert len(bodies) > 30
    bare = sorted(op for op, schema in bodies.items() if "$ref" not in schema)
    assert not bare, f"JSON routes without a response_model: {bare}"
    components = spec["components"]["schemas"]
    for op, schema in bodies.items():
        model = components[schema["$ref"].rsplit("/", 1)[-1]]
        assert model["properties"]["ok"]["const"] is True, op  # errors have their own shape
        assert "ok" in model["required"], op


def test_no_response_model_names_a_secret(web_app):
    spec = web_app.openapi()
    components = spec["components"]["schemas"]
    assert len(components) > 30
    leaks = sorted(
        f"{name}.{field}"
        for name, schema in components.items()
        for field in schema.get("properties", {})
        if field in SECRET_NAMES and not name.startswith(("NewUser", "Body_"))  # request bodies
    )
    assert not leaks, f"response fields named like secrets: {leaks}"
    assert set(components["Stats"]["properties"]) >= {"path", "papers"}  # the scan reads the models
