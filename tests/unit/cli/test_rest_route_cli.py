"""`cf-aig route --endpoint rest --embeddings`: the REST API's embeddings URL."""

from __future__ import annotations

import pytest

from langchain_cf_gateway.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rest_embeddings_route(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "route", "workers-ai/@cf/baai/bge-base-en-v1.5", "--endpoint", "rest",
        "--embeddings", "--account-id", "acct1", "--gateway-id", "prod", "--token", "t0k",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        "POST https://api.cloudflare.com/client/v4/accounts/acct1/ai/v1/embeddings\n"
        "headers:\n"
        "  Authorization: Bearer ***\n"
        "  cf-aig-gateway-id: prod\n"
        "body model: @cf/baai/bge-base-en-v1.5\n"
    )


def test_rest_embeddings_of_another_provider_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "route", "openai/text-embedding-3-small", "--endpoint", "rest",
        "--embeddings", "--account-id", "acct1", "--token", "t0k",
    )  # fmt: skip
    assert code != 0 and out == ""
    assert "endpoint" in err and "compat" in err
