"""OpenAI-compatible chat endpoints, by base URL: `deepseek` and `ollama` (JSON mode: no
server-side schema), `vllm`, `lmstudio` (schema), and `compatible` (any endpoint:
VIDEOAGENT_LLM_BASE_URL, VIDEOAGENT_LLM_API_KEY, VIDEOAGENT_LLM_JSON_MODE=1 where strict schemas
are not supported)."""

from __future__ import annotations

from dataclasses import dataclass

from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.openai import OpenAIChat
from videoagent_dagster.settings import current


@register("llm", "deepseek", "deepseek-chat")
@dataclass
class DeepSeekChat(OpenAIChat):
    key_var: str | None = "DEEPSEEK_API_KEY"
    base_url_var: str = "DEEPSEEK_BASE_URL"
    base_url_default: str | None = "https://api.deepseek.com"
    json_mode: bool = True


@register("llm", "ollama", "llama3.1")
@dataclass
class OllamaChat(OpenAIChat):
    key_var: str | None = "OLLAMA_API_KEY"
    key_required: bool = False
    base_url_var: str = "OLLAMA_BASE_URL"
    base_url_default: str | None = "http://localhost:11434/v1"
    json_mode: bool = True


@register("llm", "vllm", "default")
@dataclass
class VLLMChat(OpenAIChat):
    key_var: str | None = "VLLM_API_KEY"
    key_required: bool = False
    base_url_var: str = "VLLM_BASE_URL"
    base_url_default: str | None = "http://localhost:8000/v1"


@register("llm", "lmstudio", "default")
@dataclass
class LMStudioChat(OpenAIChat):
    key_var: str | None = "LMSTUDIO_API_KEY"
    key_required: bool = False
    base_url_var: str = "LMSTUDIO_BASE_URL"
    base_url_default: str | None = "http://localhost:1234/v1"


@register("llm", "compatible", "default")
@dataclass
class CompatibleChat(OpenAIChat):
    """Any OpenAI-compatible endpoint; JSON mode when VIDEOAGENT_LLM_JSON_MODE=1."""

    key_var: str | None = "VIDEOAGENT_LLM_API_KEY"
    key_required: bool = False
    base_url_var: str = "VIDEOAGENT_LLM_BASE_URL"

    def __post_init__(self):
        self.json_mode = current().llm_json_mode
