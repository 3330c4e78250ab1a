"""From a request to a route: which model, why, with which generation defaults and fallbacks.

An explicit model name always wins; `auto` (or no model) asks the classifier. The decision is a
plain value the dispatcher executes and the renderer reports.
"""

from dataclasses import dataclass
from typing import Callable, Sequence

from deployments.errors import InvalidRequestError
from deployments.types import Message
from router.classifier import Classification, with_fallback
from router.errors import ModelNotFoundError
from serve_app.config import ADAPTER_SEPARATOR, AUTO_MODEL, AppConfig, GenerationDefaults, split_model_name

EXPLICIT_CATEGORY = "explicit"

Classifier = Callable[[Sequence[Message]], Classification]


@dataclass(frozen=True, slots=True)
class RouteDecision:
    category: str
    model: str
    confidence: float
    reasons: tuple[str, ...]
    fallbacks: tuple[str, ...]
    defaults: GenerationDefaults
    adapter: str | None = None  # a LoRA adapter of `model` (the primary only, never fallbacks)

    @property
    def served_model(self) -> str:
        """The name a client sees: `model`, or `model:adapter`."""
        return f"{self.model}{ADAPTER_SEPARATOR}{self.adapter}" if self.adapter else self.model


class RoutePolicy:
    def __init__(self, config: AppConfig, classifier: Classifier) -> None:
        self._config = config
        self._classifier = classifier
        self._models = {m.name: m for m in config.models}

    @property
    def model_names(self) -> list[str]:
        return list(self._models)

    def decide(self, requested_model: str, messages: Sequence[Message]) -> RouteDecision:
        if requested_model in ("", AUTO_MODEL):
            decision = self._classified(messages)
        elif requested_model in self.served_names:
            model, adapter = split_model_name(requested_model)
            decision = RouteDecision(
                category=EXPLICIT_CATEGORY,
                model=model,
                confidence=1.0,
                reasons=("model selected by name",),
                fallbacks=(),
                defaults=GenerationDefaults(),
                adapter=adapter,
            )
        else:
            raise ModelNotFoundError(requested_model, self.served_names)
        self._check_modalities(decision.model, messages)
        return decision

    @property
    def served_names(self) -> list[str]:
        """What a request may name: auto, every model, and every `model:adapter`."""
        adapters = [f"{m.name}{ADAPTER_SEPARATOR}{a}" for m in self._config.models for a in m.adapter_names]
        return [AUTO_MODEL, *self._models, *adapters]

    def chat_template_kwargs(self, decision: RouteDecision) -> dict:
        """The model's template defaults overlaid with the route's (the request's come last)."""
        model_defaults = self._models[decision.model].chat_template_kwargs
        return {**model_defaults, **decision.defaults.chat_template_kwargs}

    def _classified(self, messages: Sequence[Message]) -> RouteDecision:
        """The classifier's category, or the fallback category when it is not confident enough."""
        router = self._config.router
        result = with_fallback(self._classifier(messages), router.min_confidence, router.fallback_category)
        route = self._config.routes[result.category]
        model, adapter = split_model_name(route.model)
        return RouteDecision(
            category=result.category,
            model=model,
            confidence=result.confidence,
            reasons=result.reasons,
            fallbacks=route.fallbacks,
            defaults=route.defaults,
            adapter=adapter,
        )

    def _check_modalities(self, model: str, messages: Sequence[Message]) -> None:
        if any(m.images for m in messages) and not self._models[model].accepts_images:
            capable = [m.name for m in self._config.models if m.accepts_images]
            raise InvalidRequestError(
                f"model {model!r} does not accept images; models that do: {capable}",
                param="model",
            )
