"""Settings from one TOML file: which provider, model, theme and pack to use, and per-provider tables.

The package, one idea per module:
`model` the `Config` dataclasses and the file's default place; `keys` the API key looked up on each
request; `loading` reading and checking (never fails); `editing` atomic private writes and one
setting changed keeping the file's layout; `template` the commented starting file; `report` the
settings in effect with secrets masked.
"""

from .editing import atomic_write_secret, set_value
from .loading import load_config, read_toml
from .model import CONFIG_ENV, DEFAULT_THEME, Config, LoadResult, ProviderConfig, default_config_path
from .report import mask_secret, mask_url, masked_toml
from .template import write_default_config

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_THEME",
    "Config",
    "LoadResult",
    "ProviderConfig",
    "atomic_write_secret",
    "default_config_path",
    "load_config",
    "mask_secret",
    "mask_url",
    "masked_toml",
    "read_toml",
    "set_value",
    "write_default_config",
]
