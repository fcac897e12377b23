"""Tokens as bytes: the common ground between Whisper's and an LLM's vocabularies.

GFD compares hypotheses as byte strings, so each vocabulary is mapped to bytes:
- byte-level BPE (GPT-2, Whisper, Llama-3, Qwen2, SmolLM2): every token string is a sequence
  of stand-in characters, one per byte (the GPT-2 byte <-> unicode table);
- SentencePiece with byte fallback (Llama-2, Mistral): "<0xAB>" is byte 0xAB, "▁" a space,
  anything else UTF-8.
A sorted-array byte trie answers "which tokens strictly extend these bytes" (the A_k sets).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from ..errors import InvalidOptionError

BYTE_LEVEL = "byte-level"
SENTENCEPIECE = "sentencepiece"
_SP_BYTE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_SP_SPACE = "\u2581"


@lru_cache(maxsize=1)
def byte_to_char() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table.

    Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls, space, ...)
    take the characters U+0100 onwards, in byte order.
    """
    keep = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(0x100 + extra)
            extra += 1
    return table


@lru_cache(maxsize=1)
def char_to_byte() -> dict[str, int]:
    return {c: b for b, c in byte_to_char().items()}


def byte_level_bytes(token: str) -> bytes | None:
    """Bytes of a byte-level BPE token string; None if it is not one (an added special)."""
    table = char_to_byte()
    try:
        return bytes(table[c] for c in token)
    except KeyError:
        return None


def sentencepiece_bytes(piece: str) -> bytes:
    """Bytes of a SentencePiece piece: byte-fallback pieces, "▁" as space, else UTF-8."""
    m = _SP_BYTE.fullmatch(piece)
    if m:
        return bytes([int(m.group(1), 16)])
    return piece.replace(_SP_SPACE, " ").encode("utf-8")


def _special_ids(tokenizer: Any) -> set[int]:
    ids = set(tokenizer.all_special_ids)
    for tid, added in getattr(tokenizer, "added_tokens_decoder", {}).items():
        if getattr(added, "special", False):
            ids.add(int(tid))
    return ids


def whisper_token_bytes(tokenizer: Any, eot: int) -> list[bytes]:
    """Bytes of every Whisper token; special tokens (ids >= EOT) map to b"" (skipped)."""
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    out = []
    for tid, tok in enumerate(tokens):
        b = byte_level_bytes(tok) if tid < eot and tok is not None else None
        out.append(b or b"")
    return out


def detect_family(tokenizer: Any) -> str:
    """Which byte mapping an LLM tokenizer needs, or a clear error if it has none."""
    vocab = tokenizer.get_vocab()
    if all(f"<0x{b:02X}>" in vocab for b in range(256)):
        return SENTENCEPIECE
    special = _special_ids(tokenizer)
    table = byte_to_char()
    # Byte-level vocabularies may leave out bytes that never occur in UTF-8 text (0xC0,
    # 0xF5..0xFF) or rare control bytes, but every ordinary token spells bytes.
    if (sum(table[b] in vocab for b in range(256)) >= 200
            and all(byte_level_bytes(t) is not None for t, i in vocab.items() if i not in special)):
        return BYTE_LEVEL
    raise InvalidOptionError(
        "this LLM's tokenizer is neither byte-level BPE (GPT-2, Llama-3, Qwen2, SmolLM2) nor "
        "SentencePiece with byte fallback (Llama-2, Mistral), so its tokens cannot be mapped "
        "to bytes for fusion; choose an LLM with one of those tokenizers")


def llm_token_bytes(tokenizer: Any, family: str) -> list[bytes | None]:
    """Bytes of every LLM token id; None for special tokens (they never spell text)."""
    special = _special_ids(tokenizer)
    added = {int(k): v for k, v in getattr(tokenizer, "added_tokens_decoder", {}).items()}
    n = max(len(tokenizer), max(tokenizer.get_vocab().values()) + 1)
    pieces = tokenizer.convert_ids_to_tokens(list(range(n)))
    out: list[bytes | None] = []
    for tid, piece in enumerate(pieces):
        if piece is None or tid in special:
            out.append(None)
        elif tid in added:          # a non-special added token: its content is plain text
            out.append(added[tid].content.encode("utf-8") or None)
        elif family == SENTENCEPIECE:
            out.append(sentencepiece_bytes(piece) or None)
        else:
            out.append(byte_level_bytes(piece) or None)
    return out


def _successor(prefix: bytes) -> bytes | None:
    """Smallest byte string greater than every string that starts with prefix."""
    p = prefix.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else None


class ByteTrie:
    """A trie over token byte strings, flattened into a sorted array.

    Every subtree (all tokens starting with some bytes) is a contiguous run of the array,
    found with two binary searches.
    """

    def __init__(self, token_bytes: Sequence[bytes | None]):
        items = sorted((b, i) for i, b in enumerate(token_bytes) if b)
        self._keys = [b for b, _ in items]
        self._ids = np.array([i for _, i in items], dtype=np.int64)
        self.max_len = max((len(b) for b in self._keys), default=0)
        self._cache: dict[bytes, torch.Tensor] = {}

    def extensions(self, prefix: bytes) -> torch.Tensor:
        """Ids of tokens whose bytes have `prefix` as a STRICT prefix (empty if none)."""
        hit = self._cache.get(prefix)
        if hit is not None:
            return hit
        keys = self._keys
        lo = bisect_left(keys, prefix)
        while lo < len(keys) and keys[lo] == prefix:
            lo += 1
        succ = _successor(prefix)
        hi = len(keys) if succ is None else bisect_left(keys, succ, lo)
        ids = torch.from_numpy(self._ids[lo:max(lo, hi)].copy())
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[prefix] = ids
        return ids


@dataclass
class LlmVocab:
    """An LLM tokenizer seen as bytes: token bytes, the byte trie, byte-exact tokenisation."""

    tokenizer: Any
    family: str
    token_bytes: list[bytes | None]
    trie: ByteTrie
    byte_ids: list[int | None]             # the token spelling each single byte, if any
    exact: dict[bytes, int] = field(default_factory=dict)

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> LlmVocab:
        family = detect_family(tokenizer)
        tb = llm_token_bytes(tokenizer, family)
        vocab = tokenizer.get_vocab()
        if family == SENTENCEPIECE:
            byte_ids = [vocab[f"<0x{b:02X}>"] for b in range(256)]
        else:
            table = byte_to_char()
            byte_ids = [vocab.get(table[b]) for b in range(256)]
        exact: dict[bytes, int] = {}
        for tid, b in enumerate(tb):
            # Prefer ordinary pieces over byte-fallback ones spelling the same bytes.
            if b and (b not in exact or (family == SENTENCEPIECE and exact[b] in byte_ids)):
                exact[b] = tid
        return cls(tokenizer, family, tb, ByteTrie(tb), byte_ids, exact)

    def bytes_of(self, ids: Sequence[int]) -> bytes:
        return b"".join(self.token_bytes[i] or b"" for i in ids)

    def tokenize_from_byte(self, data: bytes) -> list[int]:
        """Tokens t_1..t_n spelling exactly `data`.

        Valid UTF-8 runs are tokenised as text by the tokenizer itself; bytes that are not
        (a character cut at the end, as Whisper tokens can leave it) become byte tokens. A
        byte the vocabulary cannot spell at all (0xFF in a byte-level vocabulary without it)
        is left out: the LLM could never have written it.
        """
        text = data.decode("utf-8", errors="surrogateescape")
        ids: list[int] = []
        run: list[str] = []
        for ch in text:
            if 0xDC80 <= ord(ch) <= 0xDCFF:     # a byte that is not part of valid UTF-8
                if run:
                    ids += self._encode_text("".join(run))
                    run = []
                tid = self.byte_ids[ord(ch) - 0xDC00]
                if tid is not None:
                    ids.append(tid)
            else:
                run.append(ch)
        if run:
            ids += self._encode_text("".join(run))
        return ids

    def _encode_text(self, text: str) -> list[int]:
        target = text.encode("utf-8")
        ids = list(self.tokenizer(text, add_special_tokens=False).input_ids)
        got = self.bytes_of(ids) if all(self.token_bytes[i] for i in ids) else None
        if got == target:
            return ids
        if got == b" " + target and ids:
            # SentencePiece's dummy prefix: drop the space it added in front.
            first = (self.token_bytes[ids[0]] or b"")[1:]
            fixed = ids[1:] if not first else (
                [self.exact[first], *ids[1:]] if first in self.exact else None)
            if fixed is not None and self.bytes_of(fixed) == target:
                return fixed
        return self._greedy(target)

    def _greedy(self, data: bytes) -> list[int]:
        """Longest-match tokenisation: exact bytes when the tokenizer's own output is not."""
        ids, i = [], 0
        while i < len(data):
            for n in range(min(self.trie.max_len, len(data) - i), 0, -1):
                tid = self.exact.get(data[i:i + n])
                if tid is not None:
                    ids.append(tid)
                    i += n
                    break
            else:
                tid = self.byte_ids[data[i]]
                if tid is not None:
                    ids.append(tid)
                i += 1
        return ids
