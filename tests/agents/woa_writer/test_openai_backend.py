"""The OpenAI-compatible backend against a real server: llama-cpp-python's, on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import jsonschema
import pytest

from woa_writer import BackendError, OpenAIBackend, Writer, WriterSettings, backend_from_settings

from ..test_e2e import free_port
from .receipts import EXPENSE_SCHEMA, FIELDS, field_correct, make_receipts


@pytest.fixture(scope="module")
def server(writer: Writer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` serving the same verified GGUF; its ``/v1`` URL."""
    path = writer.backend.path  # type: ignore[attr-defined]
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w+b")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(path),
            "--model_alias",
            "writer-test",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--verbose",
            "False",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                log.seek(0)
                err = log.read().decode("utf-8", "replace")
                pytest.fail(f"llama_cpp.server exited {process.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "llama_cpp.server did not start in 120 s"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def remote_writer(server: str) -> Iterator[Writer]:
    settings = WriterSettings(
        backend="openai",
        openai_url=server,
        openai_model="writer-test",
        openai_json_mode="json_object",
    )
    backend = backend_from_settings(settings)
    assert isinstance(backend, OpenAIBackend)
    backend.load()
    model = Writer(backend)
    yield model
    model.close()


@pytest.mark.req("WRT-003")
@pytest.mark.timeout(900)  # several model calls on a shared 2-core machine
async def test_extract_through_the_server(remote_writer: Writer) -> None:
    right = 0
    receipts = make_receipts(2, seed=7)
    for receipt in receipts:
        data = await remote_writer.extract(receipt.text, EXPENSE_SCHEMA)
        jsonschema.validate(data, EXPENSE_SCHEMA)
        right += sum(field_correct(f, data[f], receipt.expected[f]) for f in FIELDS)
    assert right >= 0.8 * len(FIELDS) * len(receipts)


async def test_generate_streams_through_the_server(remote_writer: Writer) -> None:
    pieces = [
        p
        async for p in remote_writer.generate(
            "Name the three primary colours of paint, comma-separated.", max_tokens=24
        )
    ]
    assert len(pieces) >= 3
    assert "blue" in "".join(pieces).lower()


async def test_an_unreachable_server_is_named() -> None:
    backend = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=2)
    with pytest.raises(BackendError, match="OpenAI-compatible server at http:"):
        backend.load()
    backend.close()
