"""Azure OpenAI's classic deployments, through the SDK's Azure client.

``base_url`` is the resource endpoint (``https://<resource>.openai.azure.com``), ``model``
the deployment name: the client builds ``/openai/deployments/<model>/...`` with the
``api-version`` query parameter and sends the key in the ``api-key`` header.
"""

from __future__ import annotations

import openai

from mlmaster.errors import UserError
from mlmaster.llm.transports.openai_sdk import SDK_TIMEOUT_MARGIN, OpenAITransport, headers
from mlmaster.settings.model import EndpointSettings


class AzureTransport(OpenAITransport):
    def _client(self, settings: EndpointSettings, api_key: str) -> openai.AsyncOpenAI:
        if not settings.base_url or not settings.api_version:
            raise UserError(
                "the azure transport needs base_url (https://<resource>.openai.azure.com) and "
                "api_version (e.g. 2024-10-21); set them for this role or use preset = azure"
            )
        return openai.AsyncAzureOpenAI(
            azure_endpoint=settings.base_url,
            api_version=settings.api_version,
            api_key=api_key,
            timeout=settings.request_timeout + SDK_TIMEOUT_MARGIN,
            max_retries=0,
            default_headers=headers(settings),
            default_query=settings.extra_query or None,
        )
