"""``cf-aig logs`` and ``cf-aig feedback`` against the local gateway, as a user runs them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.cli.logs import parse_since
from langchain_cf_gateway.core import InvalidOptionError
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.server import LOCAL_ACCOUNT_ID

from .conftest import chat


@pytest.fixture
def env(gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch) -> LocalGateway:
    """The environment a user of the local gateway sets: base URL and management token."""
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", gateway.base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", gateway.management_token)
    return gateway


def cf_aig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _traffic(gw: LocalGateway) -> dict[str, str]:
    """A MISS, its HIT, a Claude call and a failure; their log ids by name."""
    miss = chat(gw, "same", options={"cache_ttl": 600, "event_id": "evt-cli"})
    hit = chat(gw, "same", options={"cache_ttl": 600})
    claude = chat(gw, "hi", model="anthropic/claude-3-5-haiku")
    gw.script(fault="status=500")
    failed = chat(gw, "broken")
    assert [r.status_code for r in (miss, hit, claude, failed)] == [200, 200, 200, 500]
    return {
        name: r.headers["cf-aig-log-id"]
        for name, r in (("miss", miss), ("hit", hit), ("claude", claude), ("failed", failed))
    }


def test_logs_prints_a_table_of_the_rows(
    env: LocalGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _traffic(env)
    code, out, err = cf_aig(capsys, "logs")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "CREATED", "(UTC)", "LOG", "ID", "MODEL", "STATUS", "CACHE", "TOKENS", "COST", "MS", "FB",
    ]  # fmt: skip
    by_id = {line.split()[2]: line for line in lines[1:-1]}
    assert set(by_id) == set(ids.values())
    assert " HIT " in by_id[ids["hit"]] and " MISS " in by_id[ids["miss"]]
    assert "anthropic/claude-3-5-haiku" in by_id[ids["claude"]]
    assert "FAIL 500" in by_id[ids["failed"]]
    assert lines[-1] == "4 logs in gateway 'default'"
    assert env.management_token not in out and env.token not in out
    # newest first: the failure was the last request
    assert lines[1].split()[2] == ids["failed"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--cached"], {"hit"}),
        (["--no-cached"], {"miss", "claude", "failed"}),
        (["--provider", "anthropic"], {"claude"}),
        (["--model", "claude-3-5-haiku"], {"claude"}),
        (["--no-success"], {"failed"}),
        (["--success", "--provider", "openai"], {"miss", "hit"}),
        (["--event-id", "evt-cli"], {"miss"}),
        (["--since", "30m"], {"miss", "hit", "claude", "failed"}),
    ],
)
def test_logs_filters(
    env: LocalGateway, capsys: pytest.CaptureFixture[str], flags: list[str], expected: set[str]
) -> None:
    ids = _traffic(env)
    code, out, _ = cf_aig(capsys, "logs", "--json", *flags)
    assert code == 0
    shown = {json.loads(line)["id"] for line in out.splitlines()}
    assert shown == {ids[name] for name in expected}


def test_logs_since_a_date_after_the_traffic_shows_nothing(
    env: LocalGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    _traffic(env)
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, out, _ = cf_aig(capsys, "logs", "--since", later)
    assert code == 0
    assert out.splitlines() == ["No logs match.", "0 logs in gateway 'default'"]


def test_logs_limit_and_order(env: LocalGateway, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _traffic(env)
    code, out, _ = cf_aig(capsys, "logs", "--limit", "2", "--order", "asc")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[2] for line in lines[1:3]] == [ids["miss"], ids["hit"]]
    assert lines[-1] == "2 logs of 4 (raise --limit for more) in gateway 'default'"


def test_logs_reads_as_many_pages_as_the_limit_needs(
    env: LocalGateway, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import langchain_cf_gateway.cli.logs as cli_logs

    monkeypatch.setattr(cli_logs, "PAGE_SIZE", 2)
    ids = _traffic(env)
    code, out, _ = cf_aig(capsys, "logs", "--limit", "3", "--order", "asc", "--json")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [
        ids["miss"],
        ids["hit"],
        ids["claude"],
    ]
    pages = [r.query for r in env.received if r.path.endswith("/logs")]
    assert [(q["page"], q["per_page"]) for q in pages] == [("1", "2"), ("2", "2")]


def test_feedback_updates_the_log(env: LocalGateway, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _traffic(env)
    code, out, err = cf_aig(
        capsys,
        "feedback", ids["miss"], "--score", "95", "--feedback", "1",
        "--metadata", "reviewer=ana", "ok=true",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.strip() == (
        f"Sent feedback +1; score 95; metadata reviewer=ana, ok=True for log {ids['miss']} "
        "in gateway 'default'"
    )
    row = next(r for r in env.logs() if r["id"] == ids["miss"])
    assert (row["feedback"], row["score"], row["metadata"]) == (
        1,
        95,
        {"reviewer": "ana", "ok": True},
    )
    code, out, _ = cf_aig(capsys, "feedback", ids["hit"], "--feedback", "-1")
    assert code == 0
    assert next(r for r in env.logs() if r["id"] == ids["hit"])["feedback"] == -1
    code, out, _ = cf_aig(capsys, "logs", "--cached")
    assert out.splitlines()[1].split()[-1] == "-1"  # the FB column


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["feedback", "LOG", "--feedback", "2"], 2, "invalid choice: 2"),
        (["feedback", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "--score", "150"], 2, "score: must be a number from 0 to 100"),
        (["feedback", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"], 2, "give at least one of --feedback"),
        (["feedback", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "--metadata", "novalue"], 2, "KEY=VALUE"),
        (["feedback", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "--feedback", "1"], 1, "HTTP 404"),
        (["logs", "--limit", "0"], 2, "--limit: must be 1 or more"),
        (["logs", "--since", "yesterday"], 2, "write an age such as 30m"),
        (["logs", "--gateway-id", "no-such-gateway"], 1, "HTTP 404"),
        # the gateway's error, with the fix named as a flag (`gateway_id='default'` before)
        (["logs", "--gateway-id", "no-such-gateway"], 1, "or use --gateway-id default"),
    ],
)  # fmt: skip
def test_errors_exit_with_a_message_and_send_nothing_bad(
    env: LocalGateway,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    got, out, err = cf_aig(capsys, *argv)
    assert got == code
    assert message in err
    assert "Traceback" not in err
    assert env.management_token not in err + out


def test_a_wrong_token_names_the_fix_and_is_not_printed(
    env: LocalGateway, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "wrong-token-abcdef123")
    code, out, err = cf_aig(capsys, "logs")
    assert code == 1
    assert "CLOUDFLARE_API_TOKEN" in err and "HTTP 401" in err
    assert "pass --token TOKEN or set CLOUDFLARE_API_TOKEN" in err  # not `api_token=`
    assert "wrong-token-abcdef123" not in err + out
    code, _, err = cf_aig(capsys, "logs", "--token", "another-wrong-token-42")
    assert code == 1 and "another-wrong-token-42" not in err


def test_config_file_resolution_as_the_library(
    gateway: LocalGateway,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    chat(gateway)
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "accountId": gateway.account_id,
                "baseUrl": gateway.base_url,
                "token": gateway.management_token,
            }
        )
    )
    path.chmod(0o600)
    monkeypatch.setenv("CF_AIG_CONFIG", str(path))
    code, out, _ = cf_aig(capsys, "logs")
    assert code == 0 and out.splitlines()[-1] == "1 log in gateway 'default'"
    sent = [r for r in gateway.received if r.path.startswith("/client/v4/")][-1]
    assert sent.path.startswith(f"/client/v4/accounts/{gateway.account_id}/")
    assert sent.headers["authorization"] == f"Bearer {gateway.management_token}"


def test_a_local_gateway_needs_no_account_id(
    env: LocalGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    chat(env)
    code, out, _ = cf_aig(capsys, "logs")  # only the base URL and the token are set
    assert code == 0 and out.splitlines()[-1] == "1 log in gateway 'default'"
    sent = [r for r in env.received if r.path.startswith("/client/v4/")][-1]
    # the local gateway's own default account id, as in the URLs `cf-aig serve` prints
    assert sent.path == f"/client/v4/accounts/{LOCAL_ACCOUNT_ID}/ai-gateway/gateways/default/logs"


def test_without_an_account_or_a_base_url_it_says_what_to_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cf_aig(capsys, "logs")
    assert code == 2 and "CLOUDFLARE_ACCOUNT_ID" in err


def test_an_unreachable_host_is_reported(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "tok-unreachable-1")
    code, _, err = cf_aig(capsys, "logs", "--base-url", "http://127.0.0.1:9")
    assert code == 1
    assert "cannot reach the management API at http://127.0.0.1:9/client/v4" in err
    assert "tok-unreachable-1" not in err


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", NOW - timedelta(seconds=90)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("7d", NOW - timedelta(days=7)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2026-11-23T10:00:00Z", datetime(2026, 11, 23, 10, tzinfo=timezone.utc)),
        ("2026-11-23T10:00:00", datetime(2026, 11, 23, 10, tzinfo=timezone.utc)),
        ("2026-11-23T11:00:00+01:00", datetime(2026, 11, 23, 10, tzinfo=timezone.utc)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "5 years", "-3h", "10x"])
def test_parse_since_refuses_other_text(text: str) -> None:
    with pytest.raises(InvalidOptionError, match="--since"):
        parse_since(text, now=NOW)


def test_an_unreachable_gateway_names_the_url_models_tried(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", "tok-unreachable-2")
    code, _, err = cf_aig(capsys, "models", "--base-url", "http://127.0.0.1:9")
    assert code == 1
    assert "cannot reach the gateway at http://127.0.0.1:9/v1/" in err
    assert "/compat/models" in err
    assert "management API" not in err
    assert "tok-unreachable-2" not in err


@pytest.mark.parametrize("command", ["logs", "models"])
def test_an_unreachable_host_is_one_sentence_spelled_as_flags(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """The connection message says where and what to do once, with the CLI's flag names."""
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "tok-unreachable-3")
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", "tok-unreachable-3")
    code, _, err = cf_aig(capsys, command, "--base-url", "http://127.0.0.1:9")
    assert code == 1
    assert err.count("cannot reach") == 1, err
    assert "--base-url" in err and "`base_url`" not in err
    assert "cf-aig serve" in err
    assert "tok-unreachable-3" not in err
