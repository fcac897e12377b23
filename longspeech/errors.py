"""Errors a user can hit. Each message says what to do next."""

from __future__ import annotations


class LongspeechError(Exception):
    """Base class for every error longspeech raises on purpose."""


class AudioDecodeError(LongspeechError):
    """The input could not be read as audio (empty, truncated, not audio, a directory...)."""


class ModelNotAvailableError(LongspeechError):
    """A model's weights are missing: not installed, not cached, or no hub reachable."""


class ModelIntegrityError(LongspeechError):
    """A weight file's sha256 does not match the registry: the package is corrupt or altered."""


class TranscriptFormatError(LongspeechError):
    """A transcript JSON file could not be read back."""


class InputFileError(LongspeechError):
    """An input file (a list of questions, of inputs...) is missing, unreadable or malformed."""


class InvalidOptionError(LongspeechError):
    """An option value makes no sense (unknown engine, bad batch size, ...)."""


class ModelConversionError(LongspeechError):
    """A model file could not be converted: unsupported format or an unexpected architecture."""


class SynthesisError(LongspeechError):
    """Synthetic speech could not be rendered (a TTS engine or voice is missing or misbehaved)."""


class BlabDataError(LongspeechError):
    """A BLAB annotation or prediction file is unreadable, malformed, or its audio is missing."""
