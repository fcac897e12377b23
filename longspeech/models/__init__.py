"""Model registry, weight checks and the CTranslate2 -> transformers conversion cache."""

from .cache import cache_dir, sha256_file
from .registry import DEFAULT_MODEL, EMBEDDED, ct2_dir, list_models, transformers_dir

__all__ = ["DEFAULT_MODEL", "EMBEDDED", "cache_dir", "ct2_dir", "list_models", "sha256_file",
           "transformers_dir"]
