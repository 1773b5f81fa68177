"""Jupyter shows the gateway info, the usage tracker and log pages as short, escaped tables."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage

from langchain_cf_gateway import GatewayInfo, GatewayUsageTracker, LogPage

SCRIPT = "<script>alert(1)</script>"


def _cells(html: str) -> list[str]:
    return re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, re.S)


def test_gateway_info_shows_the_set_fields_only() -> None:
    info = GatewayInfo(cache_status="HIT", log_id="log-1", step=0, model=SCRIPT)
    html = info._repr_html_()
    assert html.startswith("<table")
    cells = _cells(html)
    assert cells[2:] == [
        "cache_status", "HIT", "log_id", "log-1", "step", "0",
        "model", "&lt;script&gt;alert(1)&lt;/script&gt;",
    ]  # fmt: skip
    assert "<script>" not in html
    assert "request_id" not in html  # unset


def _message(model: str, status: str) -> AIMessage:
    return AIMessage(
        content="hi",
        response_metadata={
            "model_name": model,
            "gateway": {"model": model, "cache_status": status},
        },
        usage_metadata={"input_tokens": 10, "output_tokens": 2, "total_tokens": 12},
    )


def test_the_tracker_shows_a_row_per_model_and_totals() -> None:
    tracker = GatewayUsageTracker()
    tracker.record(_message("gpt-4o-mini", "MISS"))
    tracker.record(_message("gpt-4o-mini", "HIT"))
    tracker.record(_message(SCRIPT, "MISS"))
    html = tracker._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    body = [_cells(f"<tr>{row}</tr>") for row in rows[1:]]
    assert [row[:3] for row in body] == [
        ["gpt-4o-mini", "2", "1"],
        ["&lt;script&gt;alert(1)&lt;/script&gt;", "1", "0"],
        ["<b>total</b>", "<b>3</b>", "<b>1</b>"],
    ]
    assert "Gateway calls: 3" in html
    assert len(html) < 2000  # concise


def _entry(i: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"log-{i}", "model": "gpt-4o-mini", "provider": "openai", "cost": 0.001, **extra}


def test_a_log_page_is_a_table_capped_at_20_rows() -> None:
    page = LogPage.model_validate(
        {
            "result": [_entry(i) for i in range(25)],
            "result_info": {"page": 1, "per_page": 25, "total_count": 80},
        }
    )
    html = page._repr_html_()
    assert html.count("log-") == 20
    assert "... 5 more" in html
    assert "page 1, 25 of 80" in html
    assert len(html) < len(repr(page))  # not pydantic's full repr


def test_a_log_page_escapes_values_and_never_shows_a_token() -> None:
    token = "sk-proj-" + "a1B2c3D4" * 4
    page = LogPage.model_validate(
        {
            "result": [
                _entry(1, model=SCRIPT, metadata={"user": "ada", "note": f"Bearer {token}"}),
                _entry(2, metadata={"key": token}),
            ]
        }
    )
    html = page._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a1B2c3D4" not in html
    assert "ada" in html  # the metadata is kept, its credentials masked
    assert "[redacted]" in html


def test_ipython_shows_a_log_page_in_one_line() -> None:
    from IPython.lib.pretty import pretty

    page = LogPage.model_validate(
        {"result": [_entry(i) for i in range(3)], "result_info": {"page": 2, "total_count": 9}}
    )
    assert pretty(page) == "LogPage(page=2, entries=3, total_count=9)"
