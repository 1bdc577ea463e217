"""Access tokens got by running a command, for providers that take a short-lived bearer token.

Vertex AI (`gcloud auth print-access-token`) and Azure OpenAI with Microsoft Entra ID
(`az account get-access-token --resource https://cognitiveservices.azure.com --query accessToken
-o tsv`) both take such a token. The provider option `token_command` names the command (a string,
split as a shell would but run without one, or a list of arguments); its output, stripped, is the
token, kept for `token_ttl` seconds (default 3000, under the hour these tokens last) or until the
service refuses it (`forget`). Neither the token nor the command's output reaches a message: the
token is handed to the provider's secrets as soon as it is read.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import Any, Callable, Mapping

from ..errors import ProviderError
from .failures import trim
from .options import option_number

COMMAND_TIMEOUT = 30.0
"""Seconds the command may take before it is stopped and the request fails."""
DEFAULT_TTL = 3000.0


class TokenCommand:
    """A command that prints an access token, run when the cached token is missing or stale."""

    def __init__(
        self,
        command: list[str],
        *,
        ttl: float = DEFAULT_TTL,
        label: str,
        hint: Callable[[], str],
        remember: Callable[[str], None],
    ) -> None:
        """`label` names the provider in messages, `hint` says how to give a token, `remember` keeps a token out of messages."""
        if not command or not all(isinstance(part, str) and part for part in command):
            raise ProviderError(f"the {label} token_command is empty", hint=hint())
        self.command = command
        self.ttl = ttl
        self.label = label
        self.hint = hint
        self.remember = remember
        self._token: str | None = None
        self._expires = 0.0

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], *, label: str, hint: Callable[[], str], remember: Callable[[str], None]
    ) -> TokenCommand | None:
        """The `token_command` (and `token_ttl`) of a provider's options, or None when there is none."""
        command = options.get("token_command")
        if command is None or command == "" or command == []:
            return None
        if isinstance(command, str):
            try:
                parts = shlex.split(command)
            except ValueError as error:
                raise ProviderError(f"the {label} token_command cannot be read: {error}", hint=hint()) from None
        elif isinstance(command, (list, tuple)):
            parts = list(command)
        else:
            raise ProviderError(f"the {label} token_command must be a string or a list of arguments", hint=hint())
        ttl = option_number(options, "token_ttl", DEFAULT_TTL)
        return cls(parts, ttl=ttl if ttl is not None else DEFAULT_TTL, label=label, hint=hint, remember=remember)

    def __repr__(self) -> str:
        return f"TokenCommand({self.command[0]!r}, ttl={self.ttl:g}, token={'<hidden>' if self._token else None})"

    def forget(self) -> None:
        """Drop the cached token (the service refused it): the next request runs the command again."""
        self._token = None

    async def token(self) -> str:
        """The cached token while it is fresh, else a new one from the command."""
        now = asyncio.get_running_loop().time()
        if self._token is not None and self._expires > now:
            return self._token
        token = await self._run()
        self.remember(token)
        self._token = token
        self._expires = now + self.ttl
        return token

    async def _run(self) -> str:
        program = self.command[0]
        what = f"the {self.label} token_command {program!r}"
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except OSError as error:
            raise ProviderError(f"could not run {what}: {error.strerror or error}", hint=self.hint()) from None
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                out, err = await process.communicate()
        except TimeoutError:
            raise ProviderError(f"{what} took more than {COMMAND_TIMEOUT:g} s", hint=self.hint()) from None
        finally:
            if process.returncode is None:  # timed out, or the request was cancelled
                process.kill()
                await process.wait()
        token = out.decode("utf-8", "replace").strip()
        if process.returncode != 0 or not token:
            detail = err.decode("utf-8", "replace")
            if token:
                detail = detail.replace(token, "***")
            detail = trim(detail, 200) or f"exit status {process.returncode}"
            raise ProviderError(f"{what} failed: {detail}", hint=self.hint())
        return token
