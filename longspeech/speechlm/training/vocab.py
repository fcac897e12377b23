"""The CTC vocabulary: a SentencePiece model trained on the synthetic transcripts.

CTC targets are the spoken words only, so text is normalised first (lower case, letters and
apostrophes). The model file is a few kilobytes and ships next to the head it belongs to.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

from ...errors import InvalidOptionError, ModelNotAvailableError

VOCAB_FILE = "ctc_vocab.model"
_KEEP = re.compile(r"[^a-z' ]+")


def ctc_text(text: str) -> str:
    """What CTC is trained to emit: 'Anna's bike, 5 o'clock!' -> "anna's bike o'clock"."""
    return " ".join(_KEEP.sub(" ", text.lower()).split())


def train_vocab(texts: Iterable[str], vocab_size: int) -> bytes:
    """A unigram SentencePiece model (serialized) over the normalised texts; one thread, so
    the same texts give the same model."""
    import sentencepiece as spm

    lines = sorted({ctc_text(t) for t in texts if ctc_text(t)})
    if not lines:
        raise InvalidOptionError("no text to train a CTC vocabulary on")
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=buf, vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0,
        hard_vocab_limit=False, num_threads=1, normalization_rule_name="identity",
        minloglevel=2)
    return buf.getvalue()


def load_vocab(source: bytes | str | Path):
    """A SentencePieceProcessor from model bytes or a file (or a directory holding one)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor()
    if isinstance(source, bytes):
        sp.LoadFromSerializedProto(source)
        return sp
    path = Path(source)
    if path.is_dir():
        path = path / VOCAB_FILE
    if not path.is_file():
        raise ModelNotAvailableError(f"no CTC vocabulary at {path}: train the CTC head first "
                                     "(longspeech train ctc)")
    sp.Load(str(path))
    return sp


def encode(sp, text: str) -> list[int]:
    """Piece ids of a transcript, after ctc_text."""
    return list(sp.EncodeAsIds(ctc_text(text)))


def piece_texts(sp) -> list[str]:
    """The surface text of each piece id ('▁the' -> ' the'), for mapping pieces to LLM tokens."""
    return [sp.IdToPiece(i).replace("\u2581", " ") for i in range(sp.GetPieceSize())]
