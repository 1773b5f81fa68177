"""`cf-aig demo` (`make demo`): the package end to end, as a readable report.

Where it runs: with Cloudflare credentials configured (`CLOUDFLARE_ACCOUNT_ID` and a
token, in the environment or `~/.config/cf-aig/config.json`) against that gateway;
otherwise, or with `--local`, on an embedded `LocalGateway` started on a
free loopback port and stopped at the end. The steps:

1. a LangChain chain (`prompt | ChatCloudflareGateway | StrOutputParser`) run twice:
   MISS, then HIT, with the latency of each;
2. a stream: chunks, time to the first one, the log id;
3. an agent (`langchain.agents.create_agent`): the model calls a tool, then responds from
   its result (the local mock model calls the tool a message names);
4. a fallback chain whose first step fails (the local gateway's fault grammar gives it
   a 503 response) and whose second step's response is used;
5. a LiteLLM completion through the `cloudflare-ai-gateway` custom provider;
6. the usage tracker's totals (`gateway_usage`);
7. the logs of the run, from the logs API (`GatewayClient`);
8. feedback sent for the first call's log, and read back.

Exit status 0 when every step worked, 1 otherwise (and at once, in one line naming
`cf-aig serve` and `--local`, when nothing listens at the configured `base_url`). Nothing keeps running afterwards:
the local gateway's server thread and log store are stopped, every client closed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from .arguments import model_id
from .demo_harness import (
    STEPS,
    GatewayUnreachableError,
    Report,
    Target,
    milliseconds,
    open_target,
    plural,
    shorten,
)

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool

    from ..callbacks import GatewayUsageTracker
    from ..management import LogEntry

DEFAULT_MODEL: Final = "openai/gpt-4o-mini"
DEFAULT_FALLBACK: Final = "anthropic/claude-3-5-haiku"
LOCAL_PROVIDER_DELAY_MS: Final = 120
"""The mock model's response is immediate; a MISS is given this provider-like latency, so
the report shows what the cache saves. A HIT never reaches the model."""
REMOTE_LOG_WAIT_S: Final = 20.0
"""How long to wait for Cloudflare to store the run's logs before listing them."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig demo` to `parser`.

    Args:
        parser: The subcommand's parser.
    """
    parser.description = (
        "Run the package end to end and print a report: a LangChain chain (MISS then HIT), "
        "a stream, an agent calling a tool, a fallback, LiteLLM, usage totals, the logs API and feedback. "
        "Uses the configured Cloudflare gateway when credentials are set, else an embedded "
        "local gateway."
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="use the embedded local gateway even when Cloudflare credentials are set",
    )
    parser.add_argument(
        "--model", type=model_id, default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}"
    )
    parser.add_argument(
        "--fallback-model",
        default=DEFAULT_FALLBACK,
        metavar="MODEL",
        help=f"the fallback chain's second step (default {DEFAULT_FALLBACK})",
    )


# --------------------------------------------------------------------------- the steps


def run(args: argparse.Namespace) -> int:
    """Run the eight steps and print the report.

    Args:
        args: The parsed command line.

    Returns:
        0 when every step worked, else 1.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
    started = time.perf_counter()
    report = Report()
    # LiteLLM takes seconds to import: start now, in the background, while LangChain runs.
    preload = threading.Thread(
        target=_import_quietly, args=("litellm",), name="cf-aig-demo-import", daemon=True
    )
    preload.start()
    from ..callbacks import gateway_usage

    try:
        with open_target(args.local, report) as target, gateway_usage() as usage:
            report.line()
            demo = Demo(report, target, usage, args.model, args.fallback_model, preload)
            for title, step in demo.steps():
                with report.step(title):
                    step()
            report.line()
    except GatewayUnreachableError as exc:
        print(f"cf-aig: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    if report.failures:
        report.line(f"{len(report.failures)} of {STEPS} steps failed: {', '.join(report.failures)}")
        return 1
    report.line(f"All {STEPS} steps worked in {elapsed:.1f} s.")
    return 0


class Demo:
    """The steps, sharing one chat model, one usage tracker and the first call's log id."""

    def __init__(
        self,
        report: Report,
        target: Target,
        usage: GatewayUsageTracker,
        model: str,
        fallback_model: str,
        preload: threading.Thread,
    ) -> None:
        from ..chat_models import ChatCloudflareGateway

        self.report = report
        self.target = target
        self.usage = usage
        self.model = model
        self.fallback_model = fallback_model
        self.preload = preload
        self.tag = uuid.uuid4().hex[:8]
        """In every prompt: on a real gateway the first run of this demo must be a MISS."""
        self.since = datetime.now(timezone.utc)
        self.first_log_id: str | None = None
        self.llm = ChatCloudflareGateway(
            model=model, gateway_options={"cache_ttl": 3600}, **target.chat_kwargs
        )

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        """The steps in order, each with its title."""
        return [
            ("LangChain chain: prompt | ChatCloudflareGateway | StrOutputParser", self.chain),
            ("Stream", self.stream),
            ("Agent (create_agent): a tool call, then a response from its result", self.agent),
            (f"Fallback chain: {self.model} -> {self.fallback_model}", self.fallback),
            ("LiteLLM completion through the cloudflare-ai-gateway provider", self.litellm),
            ("Usage tracker (gateway_usage)", self.totals),
            ("Logs API", self.logs),
            ("Feedback", self.feedback),
        ]

    def chain(self) -> None:
        """Step 1: a LangChain chain run twice, MISS then HIT.

        Raises:
            RuntimeError: The cache statuses were not MISS then HIT.
        """
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        prompt = ChatPromptTemplate.from_template("In one sentence, what is {topic}?")
        chain = prompt | self.llm | StrOutputParser()
        topic = f"an AI gateway (demo {self.tag})"
        if self.target.script(fault=f"delay={LOCAL_PROVIDER_DELAY_MS}", times=1):
            self.report.detail(
                f"(the local mock model is given {LOCAL_PROVIDER_DELAY_MS} ms of provider latency)"
            )
        attempts = (1, 2) if self.target.scriptable else (1, 2, 3)
        for attempt in attempts:
            t0 = time.perf_counter()
            text = chain.invoke({"topic": topic})
            took = time.perf_counter() - t0
            call = self.usage.calls[-1]
            self.report.detail(
                f"run {attempt}: {call.cache_status or '-':4}  {milliseconds(took):>7}  "
                f"log {call.log_id}  {shorten(text, 48)!r}"
            )
            if attempt == 1:
                self.first_log_id = call.log_id
            elif call.cache_status == "HIT" or self.target.scriptable:
                break
            else:  # Cloudflare's cache is eventually consistent: give it a moment
                time.sleep(1.0)
        statuses = [c.cache_status for c in (self.usage.calls[0], self.usage.calls[-1])]
        if statuses != ["MISS", "HIT"]:
            raise RuntimeError(f"expected MISS then HIT; the gateway said {statuses}")

    def stream(self) -> None:
        """Step 2: a stream, with the time to its first chunk.

        Raises:
            RuntimeError: The stream ended without a chunk.
        """
        t0 = time.perf_counter()
        first_at: float | None = None
        chunks = []
        for chunk in self.llm.stream(f"Stream a short greeting (demo {self.tag})"):
            if first_at is None:
                first_at = time.perf_counter() - t0
            chunks.append(chunk)
        total = time.perf_counter() - t0
        if not chunks:
            raise RuntimeError("the stream ended without a chunk")
        merged = sum(chunks[1:], chunks[0])
        info = merged.response_metadata.get("gateway", {})
        usage = merged.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        self.report.detail(
            f"{len(chunks)} chunks, first after {milliseconds(first_at or 0)}, "
            f"all in {milliseconds(total)}: {shorten(str(merged.content), 50)!r}"
        )
        self.report.detail(
            f"log {info.get('log_id')}, tokens {usage['input_tokens']}/{usage['output_tokens']}"
        )

    def agent(self) -> None:
        """Step 3: an agent (`langchain.agents.create_agent`) that calls a tool and responds.

        The model is asked about the weather; it calls `get_weather`, the agent runs the
        tool, and the model's second call responds from the tool's result. The local mock
        model calls the tool a message names (`local/README.md`). Without the `langchain`
        package the same loop runs by hand with `bind_tools`.

        Raises:
            RuntimeError: The model called no tool, or gave no response after it.
        """
        from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
        from langchain_core.tools import tool

        @tool
        def get_weather(city: str) -> str:
            """The current weather in a city."""
            return f"Sunny and 21 degrees in {city}"

        question = HumanMessage(f"What is the weather in Paris? (demo {self.tag})")
        try:
            from langchain.agents import create_agent
        except ImportError:
            messages = _tool_loop(self.llm.bind_tools([get_weather]), get_weather, question)
        else:
            agent = create_agent(self.llm, tools=[get_weather])
            messages = agent.invoke({"messages": [question]})["messages"]
        calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
        results = [m for m in messages if isinstance(m, ToolMessage)]
        final: BaseMessage = messages[-1]
        if not calls or not results:
            raise RuntimeError("the model's response called no tool")
        if not isinstance(final, AIMessage) or final.tool_calls or not final.content:
            raise RuntimeError("the model gave no response after the tool's result")
        self.report.detail(f"the model called {calls[0]['name']}({calls[0]['args']})")
        self.report.detail(f"the tool returned {results[0].content!r}")
        self.report.detail(f"the agent's response: {shorten(str(final.content), 60)!r}")

    def fallback(self) -> None:
        """Step 4: a fallback chain whose first step fails.

        Raises:
            RuntimeError: The response came from the first step: no fallback was taken.
        """
        from ..chat_models import ChatCloudflareGateway

        chained = ChatCloudflareGateway(
            model=self.model, fallbacks=[self.fallback_model], **self.target.chat_kwargs
        )
        failing = self.model
        # The local gateway's fault grammar gives the first step a 503 response; on a real
        # gateway a model that does not exist fails the same way.
        if not self.target.script(fault="status=503", model=self.model.split("/", 1)[-1]):
            failing = f"{self.model}-does-not-exist"
            chained = ChatCloudflareGateway(
                model=failing, fallbacks=[self.fallback_model], **self.target.chat_kwargs
            )
        response = chained.invoke(f"Say hello (demo {self.tag})")
        info = response.response_metadata["gateway"]
        if not info.get("step"):
            raise RuntimeError("the response came from the first step: no fallback was taken")
        self.report.detail(f"step 0 {failing}: failed")
        self.report.detail(
            f"step {info['step']} {info['provider']}/{info['model']}: "
            f"response {shorten(str(response.content), 40)!r}"
        )

    def litellm(self) -> None:
        """Step 5: a LiteLLM completion through the `cloudflare-ai-gateway` provider."""
        self.preload.join()
        import litellm

        from ..litellm_provider import register

        register()
        litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banner in the report
        t0 = time.perf_counter()
        response = litellm.completion(
            model=f"cloudflare-ai-gateway/{self.model}",
            messages=[{"role": "user", "content": f"Hello from LiteLLM (demo {self.tag})"}],
            **self.target.litellm_kwargs,
        )
        call = self.usage.record(response, latency_s=time.perf_counter() - t0)
        content = response.choices[0].message.content or ""
        self.report.detail(
            f"{shorten(content, 50)!r}  log {call.log_id}  "
            f"tokens {call.input_tokens}/{call.output_tokens}"
        )

    def totals(self) -> None:
        """Step 6: the usage tracker's totals, overall and by model."""
        for text in str(self.usage).splitlines():
            self.report.detail(text)
        for model, totals in self.usage.by_model().items():
            self.report.detail(
                f"  {model}: {plural(totals.calls, 'call')}, "
                f"{plural(totals.cache_hits, 'cache hit')}, "
                f"{totals.input_tokens}/{totals.output_tokens} tokens, ${totals.cost:.6f}"
            )

    def logs(self) -> None:
        """Step 7: the run's logs, from the logs API, as `cf-aig logs` shows them."""
        from ..management import GatewayClient
        from .logs import render_table

        with GatewayClient(self.target.config, api_token=self.target.management_token) as client:
            entries = list(client.iter_logs(start_date=self.since, limit=50))
            # Cloudflare stores a log a few seconds after its request; the local gateway
            # before it sends the response.
            deadline = time.monotonic() + REMOTE_LOG_WAIT_S
            while not self.target.scriptable and not self._has_first(entries):
                if time.monotonic() > deadline:
                    break
                time.sleep(1.0)
                entries = list(client.iter_logs(start_date=self.since, limit=50))
        for text in render_table(entries).splitlines():
            self.report.detail(text)
        failed = sum(1 for e in entries if e.success is False)
        self.report.detail(
            f"{len(entries)} log rows for this run; {failed} failed (the fallback's first step)"
        )
        if self.target.local is not None:
            self.report.detail(
                "COST is the gateway's own figure: the local gateway prices a request only "
                "when it carries cf-aig-custom-cost"
            )

    def _has_first(self, entries: list[LogEntry]) -> bool:
        return any(e.id == self.first_log_id for e in entries)

    def feedback(self) -> None:
        """Step 8: feedback sent for the first call's log, and read back.

        Raises:
            RuntimeError: The first step gave no log id.
            LogNotFoundError: The log is not stored (Cloudflare: not within
                `REMOTE_LOG_WAIT_S`).
        """
        from ..management import GatewayClient, LogNotFoundError

        if self.first_log_id is None:
            raise RuntimeError("no log id from the first step to send feedback for")
        with GatewayClient(self.target.config, api_token=self.target.management_token) as client:
            deadline = time.monotonic() + REMOTE_LOG_WAIT_S
            while True:
                try:
                    client.update_log(
                        self.first_log_id, feedback=1, score=95, metadata={"demo": self.tag}
                    )
                    break
                except LogNotFoundError:
                    if self.target.scriptable or time.monotonic() > deadline:
                        raise
                    time.sleep(1.0)  # not stored yet on Cloudflare's side
            entry = client.get_log(self.first_log_id)
        self.report.detail(f"sent feedback +1, score 95 for log {self.first_log_id}")
        self.report.detail(
            f"the logs API now shows feedback {entry.feedback}, score {entry.score}, "
            f"metadata {entry.metadata}"
        )


def _tool_loop(llm: Runnable[Any, Any], tool: BaseTool, question: BaseMessage) -> list[Any]:
    """The agent loop by hand: call the model, run the tools it asks for, until it responds."""
    from langchain_core.messages import AIMessage

    messages: list[Any] = [question]
    for _ in range(4):
        message = llm.invoke(messages)
        messages.append(message)
        if not isinstance(message, AIMessage) or not message.tool_calls:
            break
        messages.extend(tool.invoke(call) for call in message.tool_calls)
    return messages


def _import_quietly(name: str) -> None:
    with contextlib.suppress(Exception):  # the step that needs it reports the error
        importlib.import_module(name)
