"""The bundled facts: per provider a conservative default, model families by pattern, exact models.

Imported only on the first lookup (never at start-up). Prices are not written here: they come from
genai-prices (`prices.py`), and an entry leaves a price out rather than guess it. Context windows
come from genai-prices too where it has the model; the figures here are for families it cannot
know yet and for the maximum output, which it does not carry.

Facts and where they come from (as of December 2026):
- OpenAI reasoning models (o1/o3/o4, the gpt-5 family): only the default temperature (1), no top_p,
  presence/frequency penalty or logprobs; they take `max_completion_tokens` and `reasoning_effort`.
  The 400 names the parameter: {"error": {"message": "Unsupported parameter: 'temperature' is not
  supported with this model.", "type": "invalid_request_error", "param": "temperature", "code":
  "unsupported_parameter"}} (seen in many issue reports, e.g. github.com/ai-christianson/RA.Aid#70).
  `max_tokens` is deprecated and "not compatible with o-series models" (OpenAI API reference), so
  every OpenAI model is sent `max_completion_tokens`.
- From gpt-5.4, Chat Completions refuses function tools together with reasoning_effort: "Function
  tools with reasoning_effort are not supported for gpt-5.4 in /v1/chat/completions. Please use
  /v1/responses instead." (reported for gpt-5.4 and gpt-5.5).
- Anthropic: the Python SDK 2.10.0 sends `anthropic-version: 2026-10-21` (`_constants.py`) and keys
  as `Authorization: Bearer` (`_client.py`); its `MessageCreateParams` has no temperature, top_p or
  top_k (rejected on every model on that version). On `2023-06-01`, Claude 4.7 and later answer
  400 "`temperature` is deprecated for this model." Those models think only adaptively
  (`thinking: {"type": "adaptive"}` with `output_config.effort`, levels per the SDK's
  `OutputConfigParam`); `thinking: {"type": "enabled", "budget_tokens": N}` (N >= 1024, SDK
  `ThinkingConfigEnabledParam`) is for earlier models.
- Claude Haiku 5.5 (claude-haiku-5-5, released 2026-10-07): 1M context, 128K output, adaptive
  thinking with effort (platform.claude.com/docs/en/models/haiku-5-5/overview).
- Gemini 3.5 Flash-Lite (gemini-3.5-flash-lite) is GA: input 1,048,576, output 65,536 tokens;
  text, image, video, audio and PDF in; function calling; thinking levels, default minimal
  (ai.google.dev/gemini-api/docs/models/gemini-3.5-flash-lite, .../latest-model).
"""

from __future__ import annotations

from typing import Any

from .card import SAMPLING_PARAMS, Reasoning

Facts = dict[str, Any]

ALL_SAMPLING = SAMPLING_PARAMS
OPENAI_SAMPLING = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs", "seed", "stop"})
NO_SAMPLING: frozenset[str] = frozenset()

_OPENAI_REASONING_DEFAULT_ONLY = frozenset({"temperature"})
"""The 400 for temperature on reasoning models says "Only the default (1) value is supported"."""

_ANTHROPIC_CURRENT = frozenset({"stop"})
"""On 2026-10-21 every model takes stop_sequences but no temperature, top_p or top_k."""
_ANTHROPIC_LEGACY = frozenset({"temperature", "top_p", "top_k", "stop"})


def _openai_effort(*levels: str, with_tools: bool = True) -> Reasoning:
    return Reasoning("effort", levels, effort_field="reasoning_effort", with_tools=with_tools)


def _anthropic_budget() -> Reasoning:
    return Reasoning(
        "budget", budget_field="thinking.budget_tokens", min_budget=1024, budget_with=(("thinking.type", "enabled"),)
    )


def _anthropic_adaptive(*levels: str) -> Reasoning:
    return Reasoning(
        "effort", levels, effort_field="output_config.effort", effort_with=(("thinking.type", "adaptive"),)
    )


_OPENAI_REASONING: Facts = {
    "params": NO_SAMPLING,
    "default_only": _OPENAI_REASONING_DEFAULT_ONLY,
    "tools": True,
    "input_kinds": frozenset({"text", "image", "pdf"}),
}

PROVIDER_DEFAULTS: dict[str, Facts] = {
    # What any model of the provider is assumed to take when nothing more is known: the
    # parameters its API documents for every model, no reasoning settings, no prices.
    "openai": {"params": OPENAI_SAMPLING, "tools": True, "max_tokens_field": "max_completion_tokens"},
    "azure": {"params": OPENAI_SAMPLING, "tools": True, "max_tokens_field": "max_completion_tokens"},
    "openai-compatible": {"params": OPENAI_SAMPLING | {"top_k"}, "tools": True},  # vLLM, llama.cpp's server and others take top_k
    "mistral": {"params": frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "stop"}), "tools": True},
    "ollama": {"params": frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "stop"}), "tools": True},
    "anthropic": {
        "params": _ANTHROPIC_CURRENT,
        "params_by_api_version": {"2023-06-01": _ANTHROPIC_LEGACY, "2026-10-21": _ANTHROPIC_CURRENT},
        "tools": True,
        "input_kinds": frozenset({"text", "image", "pdf"}),
    },
    "gemini": {
        "params": ALL_SAMPLING - {"logprobs"},
        "tools": True,
        "input_kinds": frozenset({"text", "image", "audio", "pdf"}),
        "max_tokens_field": "maxOutputTokens",
    },
    "cohere": {"params": ALL_SAMPLING - {"logprobs"}, "tools": True},
    "replicate": {"params": frozenset({"temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "stop", "seed"}), "tools": False},
    "demo": {"params": ALL_SAMPLING, "tools": True, "context_window": 8192},
}

PROVIDER_ALIASES: dict[str, str] = {"vertex": "gemini"}
"""Providers that serve another's models under the same names and rules."""

FAMILIES: dict[str, list[tuple[str, str, Facts]]] = {
    # (regular expression matched against the whole id, family name, facts). Every matching
    # family applies in list order, general first, so the more specific one, later in the list,
    # wins field by field.
    "openai": [
        (r"gpt-4o.*", "gpt-4o", {"input_kinds": frozenset({"text", "image", "pdf"}), "context_window": 128_000, "max_output": 16_384}),
        (r"gpt-4\.1.*", "gpt-4.1", {"input_kinds": frozenset({"text", "image", "pdf"}), "context_window": 1_047_576, "max_output": 32_768}),
        (r"o[134](-.*)?", "o-series", {**_OPENAI_REASONING, "reasoning": _openai_effort("low", "medium", "high"), "context_window": 200_000, "max_output": 100_000}),
        # gpt-5: minimal/low/medium/high; gpt-5.1 added none and dropped minimal; gpt-5.2 added xhigh.
        (r"gpt-5.*", "gpt-5", {**_OPENAI_REASONING, "reasoning": _openai_effort("minimal", "low", "medium", "high"), "context_window": 400_000, "max_output": 128_000}),
        (r"gpt-5\.1.*", "gpt-5", {"reasoning": _openai_effort("none", "low", "medium", "high")}),
        (r"gpt-5\.[23].*", "gpt-5", {"reasoning": _openai_effort("none", "low", "medium", "high", "xhigh")}),
        (r"gpt-5\.[4-9].*", "gpt-5", {"reasoning": _openai_effort("none", "low", "medium", "high", "xhigh", with_tools=False)}),
        (r"gpt-6.*", "gpt-6", {**_OPENAI_REASONING, "reasoning": _openai_effort("none", "low", "medium", "high", "xhigh", with_tools=False)}),
        (r".*realtime.*|gpt-live.*", "realtime", {"realtime": True, "tools": True, "input_kinds": frozenset({"text", "audio", "image"})}),
    ],
    "anthropic": [
        (r"claude-.*", "claude", {"reasoning": _anthropic_budget()}),
        (r"claude-3-5-.*", "claude-3", {"reasoning": Reasoning(), "max_output": 8192}),
        (r"claude-3-haiku.*", "claude-3", {"reasoning": Reasoning(), "max_output": 4096}),
        (r"claude-3-7-.*", "claude-3", {"max_output": 64_000}),
        (r"claude-opus-4(-[01])?(-\d{8})?", "claude-4", {"max_output": 32_000}),
        (r"claude-sonnet-4(-0)?(-\d{8})?", "claude-4", {"max_output": 64_000}),
        (r"claude-[a-z]+-4-5(-\d{8})?", "claude-4", {"max_output": 64_000}),
        (r"claude-opus-4-6.*", "claude-4", {"max_output": 128_000}),
        (r"claude-sonnet-4-6.*", "claude-4", {"max_output": 64_000}),
        # Claude 4.7 and later: adaptive thinking only, temperature rejected even on 2023-06-01.
        (r"claude-[a-z]+-4-[7-9](-.*)?|claude-[a-z]+-[5-9](-.*)?", "claude-4.7+", {
            "reasoning": _anthropic_adaptive("low", "medium", "high", "max"), "max_output": 128_000,
            "params_by_api_version": {"2023-06-01": _ANTHROPIC_CURRENT, "2026-10-21": _ANTHROPIC_CURRENT},
        }),
    ],
    "gemini": [
        (r"gemini-2\.5.*", "gemini-2.5", {
            "reasoning": Reasoning("budget", budget_field="thinkingConfig.thinkingBudget", min_budget=0),
            "context_window": 1_048_576, "max_output": 65_536,
        }),
        (r"gemini-2\.5-pro.*", "gemini-2.5", {"reasoning": Reasoning("budget", budget_field="thinkingConfig.thinkingBudget", min_budget=128)}),
        (r"gemini-3.*", "gemini-3", {
            "reasoning": Reasoning("effort", ("low", "high"), effort_field="thinkingConfig.thinkingLevel"),
            "context_window": 1_048_576, "max_output": 65_536,
        }),
        (r"gemini-3.*flash.*", "gemini-3", {"reasoning": Reasoning("effort", ("minimal", "low", "medium", "high"), effort_field="thinkingConfig.thinkingLevel")}),
        (r".*(live|native-audio).*", "live", {"realtime": True, "input_kinds": frozenset({"text", "audio", "image"})}),
    ],
    "mistral": [
        (r"(pixtral|mistral-(small|medium|large)).*", "mistral-vision", {"input_kinds": frozenset({"text", "image"})}),
    ],
    "cohere": [
        (r"command-a.*", "command-a", {"context_window": 256_000, "max_output": 8_000}),
        (r"command-r.*", "command-r", {"context_window": 128_000, "max_output": 4_000}),
        (r".*vision.*", "vision", {"input_kinds": frozenset({"text", "image"}), "tools": False}),
    ],
    "ollama": [
        # A model run on ollama.com rather than locally is billed by Ollama at prices we do not know.
        (r".*-cloud", "ollama-cloud", {"price_input": None, "price_output": None, "price_cached_input": None}),
    ],
}
FAMILIES["azure"] = FAMILIES["openai"]
"""An Azure deployment named after its model follows that model's rules; other names fall to the default."""

MODELS: dict[str, dict[str, Facts]] = {
    # Exact models whose facts differ from their family's or that we name as defaults.
    "anthropic": {
        "claude-haiku-5-5": {"context_window": 1_000_000, "max_output": 128_000},
    },
    "gemini": {
        "gemini-3.5-flash-lite": {"context_window": 1_048_576, "max_output": 65_536},
    },
    "demo": {
        "demo-1": {"realtime": True},  # the offline voice demo talks too
    },
}

LOCAL_PROVIDERS = frozenset({"ollama", "demo"})
"""Providers that run on the user's machine: no fee per token (price 0, a fact, not a guess)."""

DEFAULT_MODELS: dict[str, str] = {
    # A current, generally available, inexpensive model per provider ("" = the user names it).
    "openai": "gpt-5-mini",  # $0.25 / $2 per M; on Chat Completions takes tools with reasoning (< gpt-5.4)
    "anthropic": "claude-haiku-5-5",  # from $0.10 / $0.50 per M, latest Haiku (2026-10-07)
    "gemini": "gemini-3.5-flash-lite",  # GA, $0.30 / $2.50 per M
    "vertex": "gemini-3.5-flash-lite",
    "mistral": "mistral-small-latest",  # $0.15 / $0.60 per M (genai-prices)
    "cohere": "command-r7b-12-2024",  # $0.0375 / $0.15 per M (genai-prices), tools, 128K context
    "ollama": "llama3.2",  # local: whatever the user has pulled; this one is small and common
    "replicate": "meta/meta-llama-3-8b-instruct",
    "azure": "",  # the deployment name is the user's
    "openai-compatible": "",  # the server decides
    "demo": "demo-1",
}

REALTIME_MODELS: dict[str, tuple[str, ...]] = {
    # Models with a bidirectional (WebSocket) API, the default first.
    "openai": ("gpt-realtime-mini", "gpt-realtime-2", "gpt-realtime"),  # genai-prices 0.2.3 openai
    "gemini": ("gemini-3.1-flash-live-preview", "gemini-2.5-flash-native-audio-preview-12-2025"),  # ai.google.dev models page
    "demo": ("demo-1",),
}
