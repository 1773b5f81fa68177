"""A misnamed keyword of a LiteLLM call is refused naming the one meant, its value unquoted.

It was refused as "not an OpenAI chat parameter" with the advice to send it to the
provider, its value quoted: `gateway_tokn="secret"` put the token in the error and
advised `extra_body={'gateway_tokn': 'secret'}`.
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway.core import InvalidOptionError
from langchain_cf_gateway.litellm_provider.params import upstream_params

SECRET = "gateway-secret-0123456789"


@pytest.mark.parametrize(
    ("wrong", "fix"),
    [
        ("gateway_tokn", "did you mean gateway_token=?"),
        ("token", "did you mean gateway_token=?"),
        ("gateway_option", "did you mean gateway_options=?"),
        ("acount_id", "did you mean account_id=?"),
        ("cache_ttl", "did you mean gateway_options={'cache_ttl': ...}?"),
        ("secret_key", "a credential under another name would be sent"),
    ],
)
def test_a_misnamed_keyword_names_the_fix_and_never_its_value(wrong: str, fix: str) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        upstream_params({wrong: SECRET}, "chat")
    assert fix in str(caught.value)
    assert SECRET not in str(caught.value) + repr(caught.value)


def test_another_unknown_keyword_names_extra_body_without_its_value() -> None:
    with pytest.raises(InvalidOptionError, match=r"extra_body=\{'top_k': \.\.\.\}") as caught:
        upstream_params({"top_k": 40}, "chat")
    assert "40" not in str(caught.value)
