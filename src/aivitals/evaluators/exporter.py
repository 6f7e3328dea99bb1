"""Exposes the evaluation worker's own counts (evaluated, dropped, truncated, error) and its judge's calls.

A prometheus_client collector read at scrape time, beside the Tracker's: names,
types and help come from the catalogue; model names are folded by the
Tracker's label guard, so the worker adds no unbounded label values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..catalogue.values import EVALUATION_STATUSES, JUDGE_RESULTS
from ..families import family
from ..pricing import PriceTable
from ..usage import Usage

if TYPE_CHECKING:
    from .worker import Worker

RESPONSES = "aivitals_evaluator_responses_total"
JUDGE_CALLS = "aivitals_judge_calls_total"
JUDGE_TOKENS = "aivitals_judge_tokens_total"
JUDGE_COST = "aivitals_judge_cost_usd_total"


class EvaluatorCollector:
    """The worker's counts, under ``service`` and each model's folded name."""

    def __init__(self, worker: Worker, service: str, fold: Any, prices: PriceTable | None = None) -> None:
        self._worker = worker
        self._service = service
        self._fold = fold  # callable(model or None) -> the exported model label
        self._prices = prices  # the tracker's table: the judge's spend is priced like any call's

    def describe(self) -> Iterator[Any]:
        yield from (family(RESPONSES), family(JUDGE_CALLS), family(JUDGE_TOKENS), family(JUDGE_COST))

    def collect(self) -> Iterator[Any]:
        responses = family(RESPONSES)
        totals: dict[tuple[str, str], int] = {}
        for (model, status), count in list(self._worker.counts.items()):
            key = (self._fold(model), status)
            totals[key] = totals.get(key, 0) + count
        models = {model for model, _ in totals} or {self._fold(None)}
        for model in sorted(models):
            for status in EVALUATION_STATUSES:  # zeros included, so rate() sees the first drop
                responses.add_metric([self._service, model, status], totals.get((model, status), 0))
        yield responses
        judge = self._worker.config.judge
        if judge is None:
            return
        calls, tokens = family(JUDGE_CALLS), family(JUDGE_TOKENS)
        model = self._fold(judge.model)
        for result in JUDGE_RESULTS:
            calls.add_metric([self._service, model, result], judge.stats.calls.get(result, 0))
        tokens.add_metric([self._service, model, "input"], judge.stats.input_tokens)
        tokens.add_metric([self._service, model, "output"], judge.stats.output_tokens)
        yield calls
        yield tokens
        price = self._prices.get(judge.model) if self._prices is not None else None
        if price is not None:
            cost = family(JUDGE_COST)
            usage = Usage(judge.stats.input_tokens, judge.stats.output_tokens)
            cost.add_metric([self._service, model], sum(price.token_cost(usage)))
            yield cost
