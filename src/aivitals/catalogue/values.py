"""Label values and histogram buckets as plain data.

Kept free of imports so the SDK's hot modules can read them without loading
(and validating) the whole catalogue; the catalogue's labels and metrics are
built from these.
"""

from __future__ import annotations

OTHER = "other"

#: The feature name a model's output is profiled and drift-checked under, beside its input features.
PREDICTION = "__prediction__"

#: Floor of a bin's share in PSI (an empty bin would make ln(0)): the numpy statistics and the
#: drift recording rules use the same one, so an empty bin costs the same in both.
PSI_EPSILON = 1e-4

OPERATIONS = (
    # OpenTelemetry gen_ai.operation.name values
    "chat",
    "text_completion",
    "embeddings",
    "generate_content",
    "execute_tool",
    "create_agent",
    "invoke_agent",
    # aivitals extensions for classical and retrieval models
    "classify",
    "predict",
    "retrieve",
    "rerank",
    OTHER,
)

#: Operations whose answers a model can decline: a refusal rate of exactly zero means something only for them
#: (an embedding, a classifier or a reranker cannot refuse).
CAN_REFUSE = ("chat", "text_completion", "generate_content", "invoke_agent")

PROVIDERS = (
    # OpenTelemetry gen_ai.provider.name values
    "openai",
    "anthropic",
    "aws.bedrock",
    "azure.ai.openai",
    "azure.ai.inference",
    "gcp.gemini",
    "gcp.vertex_ai",
    "cohere",
    "mistral_ai",
    "groq",
    "deepseek",
    "perplexity",
    "x_ai",
    "ibm.watsonx.ai",
    # models you host yourself (vLLM, TGI, Triton, scikit-learn, ...)
    "self_hosted",
    OTHER,
)

OUTCOMES = ("ok", "error", "refused", "timeout", "cancelled")

#: input/output are totals (cached input is part of input, reasoning part of
#: output, as in OpenTelemetry); the others say how much of a total was of that kind.
TOKEN_TYPES = ("input", "output", "cached_input", "cache_creation", "reasoning")

COST_KINDS = ("input", "output", "cached_input", "cache_creation", "gpu_time")

CACHE_KINDS = ("prompt", "embedding", "retrieval", "semantic", OTHER)

EVALUATORS = (
    "groundedness",
    "context_precision",
    "context_recall",
    "answer_relevance",
    "toxicity",
    "hallucination",
    "citation",
    "pii",
    "jailbreak",
    "refusal",
    "citation_valid",
    "custom",
    OTHER,
)

#: How a score or verdict was reached, so a panel never mixes methods silently: aivitals' own
#: lexical checks, the provider's signal, an LLM judge, a local model (toxicity), golden
#: reference ids, or the application itself (``record_quality`` and friends).
EVALUATION_METHODS = ("lexical", "provider", "judge", "model", "reference", "app", OTHER)

#: What became of a response handed to the evaluation worker (truncated ones are evaluated too).
EVALUATION_STATUSES = ("evaluated", "dropped", "truncated", "error")

#: How a call to the LLM judge ended.
JUDGE_RESULTS = ("ok", "error", "timeout", "invalid", "rate_limited", "circuit_open")

#: PII kinds, then secret kinds: only the kind is recorded, never the value.
PII_KINDS = (
    "email",
    "phone_number",
    "credit_card",
    "iban",
    "us_ssn",
    "ip_address",
    "private_key",
    "aws_access_key",
    "github_token",
    "slack_token",
    "stripe_key",
    "openai_key",
    "jwt",
    "password",
    OTHER,
)

#: Why a call's tokens are unknown (``aivitals_unmetered_requests_total``): its cost would otherwise read $0.
UNMETERED_REASONS = (
    "no_usage",  # the response or stream carried no usage (a provider that sends none, text chunks)
    "stream_incomplete",  # the stream was abandoned or failed before its usage arrived
    "usage_not_requested",  # an OpenAI stream created with include_usage explicitly off
    "stream_not_consumed",  # a tracked function returned the client's stream object unread
    "unreadable",  # usage in a shape or with values aivitals cannot read
    OTHER,
)

#: Categories of the jailbreak and prompt-injection probe suite (``aivitals probe``).
PROBE_CATEGORIES = ("goal_hijacking", "prompt_leaking", "persona_jailbreak", "harmful_request")

#: Which of a model's two latest probed releases a probe series describes.
PROBE_RELEASES = ("current", "previous")

SDK_STAGES = (
    "decorate",
    "labels",
    "usage",
    "cost",
    "stream",
    "record",
    "fold",
    "collect",
    "config",
)

#: OpenTelemetry's advisory buckets for gen_ai.client.operation.duration.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
#: OpenTelemetry's advisory buckets for gen_ai.server.time_to_first_token.
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
#: OpenTelemetry's advisory buckets for gen_ai.server.time_per_output_token.
TPOT_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
#: OpenTelemetry's advisory buckets for gen_ai.client.token.usage (powers of 4).
TOKEN_BUCKETS = tuple(float(4**i) for i in range(14))
#: Scores in 0..1, finer at the top where thresholds sit (0.7, 0.9, 0.95).
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0)
#: Human-scale durations: minutes to weeks (labels, incidents, cycle time, time-to-value).
HUMAN_DURATION_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 172800.0,
                          604800.0, 1209600.0, 2592000.0)
