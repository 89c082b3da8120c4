"""Trusted documents through the served gateway: a manifest (Apollo's format or an id map) read
at start-up, `documentId` (and a manifest hash in `extensions.persistedQuery`) running its
document, and GATEWAY_TRUSTED_DOCUMENTS_ONLY refusing every other query, over POST, GET, SSE and
the WebSocket; a bad manifest stopping start-up with a message naming the file and the entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from gateway.persisted import ManifestError
from tests.gateway.events.streams import SseSubscription
from tests.gateway.persisted_served import QUERY, apq, error_of, served, sha256, write_manifest

OTHER = "query Other { providers { name } }"
EVENTS = "subscription Events { invoiceEvents { id type invoiceId } }"
CUSTOM_ID = "invoices-page-v1"


def apollo_manifest(*bodies: str) -> dict[str, object]:
    operations = [
        {"id": sha256(body), "name": f"Op{n}", "type": "query", "body": body}
        for n, body in enumerate(bodies)
    ]
    return {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}


@pytest.mark.parametrize("form", ["apollo", "map", "map-prefixed"])
def test_a_listed_id_runs_from_either_manifest_format(tmp_path: Path, form: str) -> None:
    manifest = {
        "apollo": apollo_manifest(QUERY),
        "map": {sha256(QUERY): QUERY, CUSTOM_ID: QUERY},
        "map-prefixed": {f"sha256:{sha256(QUERY)}": QUERY},
    }[form]
    env = {"GATEWAY_TRUSTED_DOCUMENTS": write_manifest(tmp_path, manifest)}
    with served(env) as gateway:
        before = gateway.upstream_total()
        ids = [sha256(QUERY), f"sha256:{sha256(QUERY)}"] + ([CUSTOM_ID] if form == "map" else [])
        for document_id in ids:
            response = gateway.post({"documentId": document_id})
            assert response.status_code == 200, response.text
            assert response.json()["data"]["invoices"]["edges"]
        hashed = gateway.post({"extensions": apq(QUERY)})  # Apollo's link, from the manifest
        assert hashed.json()["data"]["invoices"]["edges"]
        over_get = gateway.get({"documentId": sha256(QUERY)})
        assert over_get.status_code == 200, over_get.text
        assert over_get.json()["data"]["invoices"]["edges"]
        assert gateway.upstream_total() > before


def test_only_mode_runs_only_trusted_documents_everywhere(tmp_path: Path) -> None:
    env = {
        "GATEWAY_TRUSTED_DOCUMENTS": write_manifest(tmp_path, apollo_manifest(QUERY)),
        "GATEWAY_TRUSTED_DOCUMENTS_ONLY": "true",
    }
    with served(env) as gateway:
        before = gateway.upstream_total()
        refused = [
            gateway.post({"query": OTHER}),
            gateway.get({"query": OTHER}),
            # Registering an APQ is refused too: else anyone could add documents.
            gateway.post({"query": OTHER, "extensions": apq(OTHER)}),
        ]
        for response in refused:
            assert response.status_code == 403, response.text
            code, message = error_of(response)
            assert code == "TRUSTED_DOCUMENT_REQUIRED"
            assert "GATEWAY_TRUSTED_DOCUMENTS_ONLY" in message
        assert error_of(gateway.post({"extensions": apq(OTHER)}))[0] == (
            "PERSISTED_QUERY_NOT_FOUND"
        )
        with SseSubscription(gateway.url, OTHER) as sse:
            assert sse.status == 403
            _, answer = sse.events.get(timeout=10)
            assert answer["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
        url = gateway.url.replace("http://", "ws://") + "/graphql"
        with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": OTHER}}))
            error = json.loads(ws.recv(timeout=10))
            assert error["type"] == "error"
            assert error["payload"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
            ws.send(
                json.dumps(
                    {"id": "2", "type": "subscribe", "payload": {"documentId": sha256(QUERY)}}
                )
            )
            run = json.loads(ws.recv(timeout=10))
            assert run["type"] == "next"
            assert run["payload"]["data"]["invoices"]["edges"]
        assert gateway.upstream_total() > before  # only the trusted one ran (next lines)
        ran = gateway.upstream_total()
        # The trusted document itself, sent in full, runs: it is the same text.
        assert gateway.post({"query": QUERY}).json()["data"]["invoices"]["edges"]
        assert gateway.post({"documentId": sha256(QUERY)}).status_code == 200
        assert gateway.upstream_total() > ran


def test_without_only_mode_any_query_still_runs(tmp_path: Path) -> None:
    env = {"GATEWAY_TRUSTED_DOCUMENTS": write_manifest(tmp_path, apollo_manifest(QUERY))}
    with served(env) as gateway:
        response = gateway.post({"query": OTHER})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["providers"]


def test_an_unknown_or_bad_document_id_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    env = {"GATEWAY_TRUSTED_DOCUMENTS": write_manifest(tmp_path, {CUSTOM_ID: QUERY})}
    with served(env) as gateway:
        before = gateway.upstream_total()
        unknown = gateway.post({"documentId": "nope"})
        assert unknown.status_code == 404
        code, message = error_of(unknown)
        assert code == "PERSISTED_QUERY_NOT_FOUND"
        assert "documentId" in message
        for body in (
            {"documentId": 12},
            {"documentId": "x" * 300},
            {"documentId": CUSTOM_ID, "query": QUERY},
        ):
            response = gateway.post(body)
            assert response.status_code == 400, response.text
            code, message = error_of(response)
            assert code == "BAD_REQUEST"
            assert "documentId" in message
        assert gateway.upstream_total() == before


def test_a_document_id_without_a_manifest_is_not_found() -> None:
    with served() as gateway:
        response = gateway.post({"documentId": CUSTOM_ID})
        assert response.status_code == 404
        assert "no GATEWAY_TRUSTED_DOCUMENTS" in error_of(response)[1]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "is not JSON"),
        ([1, 2], "must be a JSON object"),
        ({"a": "query { nope"}, "entry 'a': the document does not parse"),
        ({"a": 3}, "entry 'a': the document must be a string"),
        ({"0" * 64: QUERY}, "the id is a SHA-256 but not its document's"),
        (
            {"format": "apollo-persisted-query-manifest", "version": 2, "operations": []},
            '"version" 1',
        ),
        (
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": "x", "name": "Broken", "type": "query", "body": "{"}],
            },
            "operations[0] (Broken): the document does not parse",
        ),
    ],
)
def test_a_bad_manifest_fails_start_up_naming_the_file_and_the_entry(
    tmp_path: Path, content: object, words: str
) -> None:
    path = write_manifest(tmp_path, content)
    with pytest.raises(ManifestError) as refused, served({"GATEWAY_TRUSTED_DOCUMENTS": path}):
        pass
    assert path in str(refused.value)
    assert words in str(refused.value)


def test_only_mode_without_a_manifest_is_a_settings_error() -> None:
    with (
        pytest.raises(ValidationError, match="needs GATEWAY_TRUSTED_DOCUMENTS"),
        served({"GATEWAY_TRUSTED_DOCUMENTS_ONLY": "true"}),
    ):
        pass


def test_serve_refuses_to_start_on_a_manifest_it_cannot_read(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    env = {**os.environ, "GATEWAY_TRUSTED_DOCUMENTS": missing, "GATEWAY_PROVIDERS": "flexprice"}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert f"GATEWAY_TRUSTED_DOCUMENTS ({missing}) cannot be read" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_trusted_subscription_streams_over_sse_by_its_id_in_only_mode(tmp_path: Path) -> None:
    env = {
        "GATEWAY_TRUSTED_DOCUMENTS": write_manifest(tmp_path, {"events-v1": EVENTS}),
        "GATEWAY_TRUSTED_DOCUMENTS_ONLY": "true",
    }
    with served(env) as gateway:
        headers = {"accept": "text/event-stream"}
        for body, status, kind in (
            ({"documentId": "events-v1"}, 200, "text/event-stream"),
            ({"query": EVENTS}, 200, "text/event-stream"),  # its very text
            ({"query": EVENTS + " "}, 403, "application/json"),
            ({"documentId": "events-v2"}, 404, "application/json"),
        ):
            with gateway.http.stream(
                "POST", f"{gateway.url}/graphql", json=body, headers=headers
            ) as response:
                assert response.status_code == status, body
                assert response.headers["content-type"].startswith(kind)
