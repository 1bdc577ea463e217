"""Errors that reach a person as one clear sentence, never as a traceback.

Every error raised for bad input or a failed request derives from `TuiChatError`; the CLI prints
`str(error)` on one line and the UI shows it inline. `hint` says what to do about it.
"""

from __future__ import annotations


class TuiChatError(Exception):
    """Base of every error meant for the user. `str()` is the message; `hint` is the remedy."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(TuiChatError):
    """A configuration file or value is wrong."""


class PackError(TuiChatError):
    """A prompt pack could not be loaded, validated or rendered."""


class ThemeError(TuiChatError):
    """A theme file is wrong."""


class ProviderError(TuiChatError):
    """A provider could not be built, or a request to it failed.

    `retryable` marks failures worth another try (connect errors, 429, 5xx, overload);
    `status` is the HTTP status where there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        retryable: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable
        self.status = status


class UnknownProviderError(ProviderError):
    """No provider has the requested name."""
