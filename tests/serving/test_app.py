"""The HTTP API through FastAPI's TestClient: every endpoint, every limit, bad JSON, wrong types."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from biorelex.document import Document  # noqa: E402
from biorelex.serving.app import ServeSettings, Service, create_app  # noqa: E402
from biorelex.serving.batching import MicroBatcher  # noqa: E402

SENTENCE = "aspirin inhibits cox 1 . caffeine and protein ."


@pytest.fixture(scope="module")
def joint_service(trained_joint_run, trained_tiny_run):
    return Service.from_directory(
        trained_joint_run / "run" / "model", classifier_dir=trained_tiny_run / "run" / "model"
    )


@pytest.fixture(scope="module")
def client(joint_service):
    settings = ServeSettings(max_body_bytes=20_000, max_texts=4, max_chars=300, max_entities=3)
    with TestClient(create_app(joint_service, settings)) as test_client:
        yield test_client


def test_healthz_and_model_info(client):
    assert client.get("/healthz").json() == {"status": "ok", "model": "model"}
    info = client.get("/v1/model").json()
    assert info["kind"] == "joint"
    assert set(info["entity_types"]) == {"Drug", "Gene"}
    assert set(info["relation_types"]) == {"Inhibit", "Activate"}
    assert info["endpoints"] == ["/v1/extract", "/v1/classify"]
    assert info["limits"]["max_texts"] == 4 and "torch" in info["versions"]
    assert "/v1/extract" in client.get("/openapi.json").json()["paths"]


def test_extract_returns_the_extractors_documents_with_evidence(client, joint_service):
    response = client.post(
        "/v1/extract", json={"texts": [SENTENCE, {"id": "b", "text": "aspirin binds cox ."}]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["setting"].startswith("end-to-end: predicted entities")
    documents = body["documents"]
    assert [d["id"] for d in documents] == ["0", "b"]
    expected = joint_service.extract([Document("0", SENTENCE)])[0]
    assert [(e["text"], e["type"]) for e in documents[0]["entities"]] == [
        (e.text, e.type) for e in expected.entities
    ]
    assert [(r["type"], r["head"], r["tail"]) for r in documents[0]["relations"]] == [
        (r.type, r.head, r.tail) for r in expected.relations
    ]
    assert documents[0]["relations"], "the tiny joint model finds the inhibit relation"
    for relation in documents[0]["relations"]:
        start, end = relation["evidence_span"]
        assert relation["evidence"] == SENTENCE[start:end] and 0 < relation["score"] <= 1


def test_classify_scores_the_given_entities(client):
    text = "aspirin inhibits the cox in cells ."
    item = {
        "text": text,
        "entities": [{"type": "CHEMICAL", "start": 0, "end": 7}, {"type": "GENE-Y", "start": 21, "end": 24}],
    }
    response = client.post("/v1/classify", json={"items": [item]})
    assert response.status_code == 200, response.text
    document = response.json()["documents"][0]
    assert [e["text"] for e in document["entities"]] == ["aspirin", "cox"]
    assert response.json()["setting"].startswith("gold entities")
    for relation in document["relations"]:
        assert relation["head"] in {"T1", "T2"} and relation["evidence"]


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ({"texts": ["a"] * 5}, ["body", "texts"]),  # texts per request
        ({"texts": ["x" * 301]}, ["body", "texts", 0]),  # characters per text
        ({"texts": [1]}, ["body", "texts", 0]),  # wrong type
        ({}, ["body"]),  # neither texts nor documents
        ({"texts": ["a"], "documents": [{"text": "b"}]}, ["body"]),
        ({"texts": ["a"], "extra": 1}, ["body", "extra"]),
    ],
)
def test_extract_rejects_invalid_input_with_422_naming_the_field(client, payload, location):
    response = client.post("/v1/extract", json=payload)
    assert response.status_code == 422
    assert any(error["loc"][: len(location)] == location for error in response.json()["detail"])


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        ([{"type": "X", "start": 0, "end": 1}] * 4, "at most 3 entities"),
        ([{"type": "X", "start": 5, "end": 99}], "not a non-empty range"),
        ([{"type": "X", "start": 3, "end": 2}], "not a non-empty range"),
        (
            [{"id": "A", "type": "X", "start": 0, "end": 1}, {"id": "A", "type": "X", "start": 2, "end": 3}],
            "duplicate",
        ),
    ],
)
def test_classify_limits_and_offsets_are_422(client, entities, message):
    response = client.post("/v1/classify", json={"items": [{"text": "aspirin x", "entities": entities}]})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"][:4] == ["body", "items", 0, "entities"] and message in detail["msg"]


def test_bad_json_is_422_and_oversized_body_is_413(client):
    response = client.post(
        "/v1/extract", content=b'{"texts": [', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"
    response = client.post("/v1/extract", json={"texts": ["a" * 25_000]})
    assert response.status_code == 413 and "max_body_bytes" in response.json()["detail"]

    def chunks():  # streamed without a content-length: counted while received
        for _ in range(30):
            yield b" " * 1000

    response = client.post("/v1/extract", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_endpoint_the_model_cannot_serve_is_400_saying_why(trained_tiny_run):
    service = Service.from_directory(trained_tiny_run / "run" / "model")
    with TestClient(create_app(service)) as test_client:
        response = test_client.post("/v1/extract", json={"texts": ["aspirin"]})
        assert response.status_code == 400 and "needs a joint NER+RE model" in response.json()["detail"]
        assert test_client.get("/v1/model").json()["endpoints"] == ["/v1/classify"]


def test_model_failure_is_500_without_traceback_and_the_server_keeps_serving():
    calls = []

    def flaky(documents):
        calls.append(len(documents))
        if len(calls) == 1:
            raise RuntimeError("secret internal detail")
        return list(documents)

    service = Service(name="m", kind="joint", extract=flaky)
    with TestClient(create_app(service), raise_server_exceptions=False) as test_client:
        failed = test_client.post("/v1/extract", json={"texts": ["a"]})
        assert failed.status_code == 500
        assert "secret" not in failed.text and "Traceback" not in failed.text
        ok = test_client.post("/v1/extract", json={"texts": ["a"]})
        assert ok.status_code == 200 and ok.json()["documents"][0]["text"] == "a"


def test_micro_batcher_groups_concurrent_requests_and_keeps_their_own_results():
    batches = []

    def echo(documents):
        batches.append([d.id for d in documents])
        return [Document(d.id, d.text.upper()) for d in documents]

    async def scenario():
        batcher = MicroBatcher(echo, max_batch=16, max_wait=0.05)
        await batcher.start()
        requests = [[Document("0", f"text {i}"), Document("1", f"more {i}")] for i in range(5)]
        results = await asyncio.gather(*(batcher.submit(r) for r in requests))
        await batcher.stop()
        return requests, results

    requests, results = asyncio.run(scenario())
    for request, result in zip(requests, results, strict=True):
        assert [d.id for d in result] == ["0", "1"]  # ids restored
        assert [d.text for d in result] == [d.text.upper() for d in request]
    assert len(batches) < 5 and sum(len(b) for b in batches) == 10  # grouped into fewer passes
    assert all(len(set(b)) == len(b) for b in batches)  # unique ids inside a batch
