"""The reader agent: a receipt read through the SDK, and on real sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from woa_agents import AgentCallError, File, connect
from woa_reader import Reader
from woa_reader.agent import ReadOut, build
from woa_samples.inputs import InputPolicy

from ..woa_samples.support import TEST_BODY_LIMIT, cer, check_on_sockets, file_json
from .conftest import RECEIPT


@pytest.fixture
def sample(reader: Reader):  # type: ignore[no-untyped-def]
    built = build(model=reader, policy=InputPolicy(max_body_bytes=TEST_BODY_LIMIT))
    yield built
    built.close()


async def test_read_a_receipt(sample, receipt: bytes) -> None:  # type: ignore[no-untyped-def]
    async with connect(sample.agent) as client:
        out = await client.call("read", {"image": file_json(receipt, "image/png")}, ReadOut)
    assert cer("\n".join(RECEIPT), out.text) <= 0.05
    assert out.model == "tesseract-5-eng-fast"
    assert out.lines[0].text == "CORNER BAKERY"
    assert all(len(line.box) == 4 and line.words for line in out.lines)


async def test_a_plain_a2a_file_part_is_read(sample, receipt: bytes) -> None:  # type: ignore[no-untyped-def]
    async with connect(sample.agent) as client:
        out = await client.call("read", File(raw=receipt, media_type="image/png"), ReadOut)
        assert cer("\n".join(RECEIPT), out.text) <= 0.05
        with pytest.raises(AgentCallError, match="does not take text/plain parts"):
            await client.call("read", File(raw=b"hello", media_type="text/plain"))


@pytest.mark.req("SMP-003")
@pytest.mark.req("SMP-004")
async def test_on_real_sockets(sample, receipt: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = await check_on_sockets(
        tmp_path,
        sample,
        skill="read",
        family="ocr",
        payload={"image": file_json(receipt, "image/png", "receipt.png")},
        search_payload={"image": {"raw": "iVBORw0K", "mediaType": "image/png"}},
        malformed={"image": {"raw": 42, "mediaType": "image/png"}},
        undecodable={"image": file_json(b"%PDF-1.4 not an image", "image/png")},
    )
    assert "TOTAL 14.58" in output["text"]
