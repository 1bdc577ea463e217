"""The model catalog: what each model takes and can do, what it costs, and requests shaped to fit.

Layout (one idea per module):
- `card`: `ModelCard` and its parts (`Reasoning`, `Rate`), plain frozen data.
- `catalog`: `Catalog.lookup(provider, model_id)` from layered sources; `default_model`, `realtime_models`.
- `table`: the bundled facts (provider defaults, families by pattern, exact models, defaults).
- `prices`: prices and context windows from genai-prices (imported on first use).
- `overrides`: the config's `[models."name"]` tables, checked.
- `endpoints`: facts read from the providers' model endpoints (Gemini, Anthropic, Ollama).
- `shaping`: `shape(card, parameters)`: drop, map, clamp, with reasons.
- `rejections`: parameters a service refused by name, read from its 400 and remembered.
- `checks`: `problems(card, tools=..., input_kinds=..., voice=...)`.
- `usage`: `cost(card, usage)` and `context_use(card, tokens)`.

Importing this package is cheap: the table and genai-prices load on the first lookup.
"""

from __future__ import annotations

from .card import ModelCard, Rate, Reasoning
from .catalog import Catalog, default_catalog, default_model, lookup, realtime_models
from .checks import Problem, problems
from .rejections import Rejections, anthropic_rejected_param, openai_rejected_param
from .shaping import Shaped, shape
from .usage import ContextUse, context_use, cost

__all__ = [
    "Catalog",
    "ContextUse",
    "ModelCard",
    "Problem",
    "Rate",
    "Reasoning",
    "Rejections",
    "Shaped",
    "anthropic_rejected_param",
    "context_use",
    "cost",
    "default_catalog",
    "default_model",
    "lookup",
    "openai_rejected_param",
    "problems",
    "realtime_models",
    "shape",
]
