"""The one typed settings model: every knob of mlmaster, in nested groups.

Values come, lowest to highest, from the defaults written here, ``settings/default.toml``,
``settings/<profile>.toml``, ``MLMASTER_*`` environment variables (nested with ``__``) and
command-line flags; :mod:`mlmaster.settings.load` does the layering.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mlmaster.llm.presets import PresetName, preset_defaults
from mlmaster.settings.units import ByteSize, CpuList, Duration, GpuList

# Each worker holds at most one LLM call or script at a time; beyond a few hundred they would
# only queue for the LLM endpoints' limits and the slots, and each costs memory and a task.
MAX_WORKERS = 512


class Group(BaseModel):
    """A settings group: unknown keys are errors, values are re-checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RunSettings(Group):
    competition: str | None = Field(None, description="competition id to solve")
    data_dir: Path = Field(
        Path("data"), description="where prepared competitions live (<data_dir>/<id>/prepared)"
    )
    public_dir: Path | None = Field(
        None,
        description="a bare public folder to solve instead of <data_dir>/<id> (MLE-bench's "
        "/home/data); the metric then comes from its description",
    )
    runs_dir: Path = Field(Path("runs"), description="where run directories are created")
    run_id: str | None = Field(None, description="run directory name; a timestamp when unset")
    output: Path | None = Field(None, description="also copy the best submission here")
    seed: int = Field(0, description="seed for every random choice of the search")


class BudgetSettings(Group):
    time_limit: Duration = Field(12 * 3600.0, description="total wall clock of a run")
    exec_timeout: Duration = Field(3600.0, description="most time one script may run")
    final_reserve: Duration = Field(
        120.0, description="time kept back at the end for final selection and outputs"
    )
    max_steps: int | None = Field(None, ge=1, description="most search steps (nodes)")
    max_tokens: int | None = Field(None, ge=1, description="most LLM tokens, in and out")
    max_cost: float | None = Field(None, ge=0, description="most LLM spend, in USD")

    @model_validator(mode="after")
    def _positive_limit(self) -> BudgetSettings:
        if self.time_limit <= 0:
            raise ValueError("time_limit must be above zero")
        if self.exec_timeout <= 0:
            raise ValueError("exec_timeout must be above zero")
        if self.final_reserve >= self.time_limit:
            raise ValueError(
                f"final_reserve ({self.final_reserve:g} s) must be below time_limit "
                f"({self.time_limit:g} s), or no time is left to search; lower it"
            )
        return self


class SearchSettings(Group):
    policy: str = Field(
        "ml-master",
        description="selection policy: ml-master (UCT), greedy (AIDE's) or random; "
        "any name in the search policy registry",
    )
    workers: int | None = Field(
        None,
        ge=1,
        le=MAX_WORKERS,
        description="most tree workers: their count adapts to keep the execution slots busy, "
        "between the slot count and this; 8 x the slots when unset",
    )
    num_drafts: int = Field(5, ge=1, description="draft children of the root")
    draft_widening: float = Field(
        0.5,
        ge=0,
        le=1,
        description="ml-master: the root may have visits^x drafts (at least num_drafts); "
        "0 keeps num_drafts",
    )
    max_drafts: int = Field(
        64, ge=1, description="most drafts progressive widening gives the root (UCT scans them)"
    )
    num_improves: int = Field(3, ge=1, description="improve children of a working node")
    debug_backup_depth: int = Field(3, ge=1, description="debug depth at which rewards back up")
    max_debug_depth: int = Field(20, ge=1, description="debug depth at which a chain is terminal")
    stagnation_limit: int = Field(
        3, ge=1, description="non-improving steps in a row before a chain is terminal"
    )
    improvement_threshold: float = Field(
        1e-4, ge=0, description="least relative gain that counts as an improvement"
    )
    uct_c_start: float = Field(1.414, ge=0, description="UCT exploration constant at the start")
    uct_c_floor: float = Field(0.5, ge=0, description="UCT exploration constant at its lowest")
    uct_decay: list[tuple[float, float]] = Field(
        default_factory=lambda: [(0.0, 1.414), (0.5, 1.0), (0.8, 0.5)],
        description="(share of time used, C) breakpoints; C is interpolated between them",
    )
    virtual_loss: float = Field(1.0, ge=0, description="loss added per in-flight expansion")
    buggy_reward: float = Field(-1.0, description="reward of a buggy node")
    best_bonus: float = Field(0.5, ge=0, description="extra reward for a new global best")
    greedy_debug_prob: float = Field(0.5, ge=0, le=1, description="greedy policy's debug share")

    @field_validator("policy")
    @classmethod
    def _registered_policy(cls, name: str) -> str:
        # imported here: the search part reads these settings, so it imports this module
        from mlmaster.search.policies import check_policy_name

        return check_policy_name(name)


class MemorySettings(Group):
    context_chars: int = Field(6000, ge=200, description="size budget of a node's memory context")
    best_insights: int = Field(3, ge=0, description="best insights from other branches to share")


class EndpointSettings(Group):
    """One LLM role's endpoint; ``provider = offline`` needs no endpoint at all.

    ``preset`` fills in what the provider needs (see :mod:`mlmaster.llm.presets`); any field
    set explicitly, in a profile, the environment or a flag, wins over the preset.
    """

    provider: Literal["offline", "openai", "replay"] = "offline"
    preset: PresetName = Field(
        "custom",
        description="provider defaults: openai, openai-reasoning, deepseek, openrouter, vllm, "
        "sglang, ollama, azure, custom (none)",
    )
    transport: str = Field(
        "openai", description="wire client: openai (any OpenAI-compatible server) or azure"
    )
    base_url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. .../v1")
    api_key: SecretStr | None = Field(None, description="API key; never printed")
    model: str | None = Field(None, description="model name (Azure: the deployment name)")
    api_version: str | None = Field(None, description="Azure's api-version query parameter")
    temperature: float | None = Field(None, ge=0, le=2, description="unset: model's default")
    max_tokens: int | None = Field(None, ge=1, description="most output tokens per call")
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    context_length: int | None = Field(
        None,
        ge=256,
        description="the model's context window in tokens; prompts are fitted to it "
        "(unset: what the server reports, or learned from a context-length error)",
    )
    unsupported_params: list[str] = Field(
        default_factory=list,
        description="request parameters the model refuses, never sent (e.g. temperature)",
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description='JSON merged into every request body, e.g. {"reasoning_effort": "high"}',
    )
    extra_headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP headers added to every request (JSON object); values never printed",
    )
    extra_query: dict[str, str] = Field(
        default_factory=dict, description="URL query parameters of every request (JSON object)"
    )
    api_style: Literal["chat", "completions"] = "chat"
    reasoning_style: Literal["think-tags", "reasoning-field", "auto", "none"] = Field(
        "none",
        description="where reasoning comes back: <think> tags, a reasoning field, "
        "auto (the field when sent, else tags), or none",
    )
    steerable_prefill: bool = Field(
        False, description="open the model's reasoning with our own (steerable reasoning)"
    )
    prefix_completion: bool = Field(
        False,
        description="chat API continues a last assistant message marked prefix (DeepSeek "
        "beta): how steering works over chat",
    )
    prompt_template: Literal["auto", "deepseek", "chatml", "plain"] = Field(
        "auto", description="chat template of raw completions prompts; auto: by model name"
    )
    function_calling: Literal["auto", "on", "off"] = Field(
        "auto", description="review by tool call (on), JSON (off), or try then fall back"
    )
    force_tool_choice: bool = Field(
        True, description="name the review tool in tool_choice (some thinking models refuse)"
    )
    stream: bool = Field(
        False, description="stream answers: long reasoning then outlives idle-connection cuts"
    )
    concurrency: int = Field(4, ge=1, description="most calls in flight for this role")
    request_timeout: Duration = Field(
        600.0, description="wall-clock cap on each request attempt, streamed or not"
    )
    retries: int = Field(5, ge=0, description="retries on 429, 5xx, timeouts, connection errors")
    price_input: float = Field(0.0, ge=0, description="USD per million input tokens")
    price_output: float = Field(0.0, ge=0, description="USD per million output tokens")
    replay_dir: Path | None = Field(None, description="run directory to replay (replay provider)")
    replay_latency_scale: float = Field(0.0, ge=0, description="scale of recorded latency")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        # Only the keys a source gave are present here: the preset fills in the others.
        if isinstance(data, dict) and data.get("preset") not in (None, "custom"):
            return {**preset_defaults(str(data["preset"])), **data}
        return data

    @field_validator("transport")
    @classmethod
    def _known_transport(cls, value: str) -> str:
        from mlmaster.llm.transports import TRANSPORTS

        if value not in TRANSPORTS:
            raise ValueError(f"unknown transport {value!r}; known: {', '.join(TRANSPORTS)}")
        return value


class LLMSettings(Group):
    coder: EndpointSettings = Field(default_factory=EndpointSettings)
    feedback: EndpointSettings = Field(default_factory=EndpointSettings)


class ExecutionSettings(Group):
    cpus: CpuList = Field("all", description="CPUs scripts may use: all, 0-35, 0,2,4-7")
    gpus: GpuList = Field("auto", description="GPUs: auto (detect), none, or 0,1")
    slots: int | None = Field(None, ge=1, description="execution slots; one per GPU or 1")
    memory_limit: ByteSize | None = Field(None, description="memory cap per script, e.g. 8G")
    python: Path | None = Field(
        None, description="interpreter for scripts; the scripts' own environment when unset"
    )
    sandbox: str = Field(
        "auto", description="what confines scripts: auto (bwrap, else none), bwrap, none"
    )
    script_uid: int = Field(
        65534,
        ge=1,
        description="unprivileged uid scripts run as (in bubblewrap; without a sandbox, when "
        "mlmaster is root, the first of one uid per slot, claimed from here up so that no other "
        "run on the host shares one)",
    )
    script_gid: int = Field(65534, ge=1, description="group scripts run as")
    kill_grace: Duration = Field(3.0, description="time between SIGTERM and SIGKILL")
    output_cap: ByteSize = Field(64 * 1024, description="head plus tail of output kept")
    network: Literal["auto", "on", "off"] = Field(
        "auto",
        description="whether scripts can reach the network, as the prompt states it; auto: "
        "off inside bubblewrap (it cuts the network), on without a sandbox",
    )
    cache_dir: Path | None = Field(
        None,
        description="folder of pre-downloaded models laid out like ~/.cache (huggingface/, "
        "torch/): HF_HOME and TORCH_HOME point there, read-only to scripts; unset: none",
    )
    keep_working: ByteSize | None = Field(
        16 * 1024**2,
        description="a node's working/ above this size is deleted after commit unless the node "
        "is the best so far; unset keeps every working/",
    )
    submission_cap: ByteSize = Field(
        512 * 1024**2, description="largest submission.csv taken from a script's workspace"
    )

    @field_validator("sandbox")
    @classmethod
    def _known_sandbox(cls, value: str) -> str:
        from mlmaster.execution.sandbox import check_sandbox_name

        return check_sandbox_name(value)


class CompetitionSettings(Group):
    """Overrides of what is read off the competition, and the benchmark's notes."""

    metric: str | None = Field(
        None, description="the metric to optimise (e.g. rmse, roc_auc); wins over model and rules"
    )
    lower_is_better: bool | None = Field(
        None, description="the metric's direction; the metric's own when unset"
    )
    metric_from_llm: bool = Field(
        True, description="ask the coder model for metric and direction when one is configured"
    )
    instructions_file: Path | None = Field(
        Path("/home/instructions.txt"),
        description="the benchmark's notes for agents, put before the description when present",
    )


class SelectionSettings(Group):
    """How the node to submit is chosen (see the README's Selection section)."""

    method: Literal["blend", "holdout", "script"] = Field(
        "blend",
        description="blend: the tree ranks nodes by their score on the harness's holdout and "
        "the submitted node is chosen by both scores, the script's judged against the "
        "holdout's; holdout: by the holdout score alone; script: by the score each script "
        "prints (holdout and blend fall back to script when no holdout can be carved)",
    )
    holdout_fraction: float = Field(
        0.1, ge=0.02, le=0.5, description="share of the training rows held back from scripts"
    )
    group_column: str | None = Field(
        None, description="training column whose groups the holdout keeps whole (e.g. a user id)"
    )
    min_holdout_rows: int = Field(
        100,
        ge=1,
        description="fewest rows a holdout may have; a smaller one would rank nodes by noise, "
        "so the scripts' own scores are used instead",
    )
    refit: bool = Field(
        False,
        description="rerun the chosen node's script once on every training row before submitting, "
        "when the time left holds 1.5x its runtime; its submission is kept if valid",
    )


class GraderSettings(Group):
    url: str | None = Field(
        None,
        description="an external validation server (MLE-bench's grading server); unset: "
        "submissions are validated in process",
    )
    validator: Literal["auto", "in-process", "http"] = Field(
        "auto",
        description="how submissions are validated: in process (the grader's own checks), or "
        "over HTTP at grader.url; auto: http when grader.url is set",
    )
    upload_limit: ByteSize = Field(
        512 * 1024**2,
        description="largest submission validated or accepted for upload; larger is invalid",
    )
    patience: Duration = Field(
        1800.0,
        description="how long one validation retries an unreachable grader before its verdict "
        "is recorded as unknown",
    )
    request_timeout: Duration = Field(300.0, description="one validation request's time limit")

    @model_validator(mode="after")
    def _http_needs_url(self) -> GraderSettings:
        if self.validator == "http" and not self.url:
            raise ValueError("grader.validator = http needs grader.url (the server to ask)")
        return self


class LogSettings(Group):
    level: Literal["debug", "info", "warning", "error"] = "info"
    console: Literal["auto", "rich", "plain", "json"] = Field(
        "auto", description="console view: rich on a terminal, plain lines otherwise"
    )


class SweepSettings(Group):
    """Campaigns of many runs (``mlmaster sweep``): what to run and what each run gets."""

    competitions: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="competition ids to sweep, comma-separated"
    )
    split: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="split files (one competition id a line), comma-separated"
    )
    seeds: int = Field(1, ge=1, le=1000, description="runs per competition, seeds 0..n-1")
    dir: Path | None = Field(None, description="sweep directory; sweeps/<timestamp> when unset")
    backend: str = Field("local", description="where runs execute: local or ray")
    address: str | None = Field(None, description="Ray cluster address (or RAY_ADDRESS)")
    parallel: int | None = Field(
        None, ge=1, le=10_000, description="most runs at once (local); as many as fit when unset"
    )
    cpus_per_run: int = Field(1, ge=1, le=4096, description="CPUs each run gets")
    gpus_per_run: int = Field(0, ge=0, le=64, description="GPUs each run gets")
    memory_per_run: ByteSize | None = Field(None, description="memory each run reserves (Ray)")
    max_retries: int = Field(0, ge=0, le=100, description="Ray retries of a run whose node died")

    @field_validator("competitions", "split", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from mlmaster.sweep.backends import BACKENDS

        if value not in BACKENDS:
            raise ValueError(
                f"unknown sweep backend {value!r}; use one of {', '.join(sorted(BACKENDS))}"
            )
        return value


class Settings(BaseSettings):
    """Every knob of mlmaster. See ``mlmaster settings`` for the resolved values."""

    model_config = SettingsConfigDict(
        extra="forbid",
        validate_assignment=True,
        env_prefix="MLMASTER_",
        env_nested_delimiter="__",
        case_sensitive=False,
    )

    run: RunSettings = Field(default_factory=RunSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    competition: CompetitionSettings = Field(default_factory=CompetitionSettings)
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    grader: GraderSettings = Field(default_factory=GraderSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    sweep: SweepSettings = Field(default_factory=SweepSettings)
