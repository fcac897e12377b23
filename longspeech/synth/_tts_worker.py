"""Render one sentence with espeak-ng or Flite through their C libraries; run as a script.

Why a fresh process per sentence: both libraries keep hidden state between syntheses (static
pitch-flutter indices, filter and random state), so the same text renders differently
depending on what the process said before. A fresh process renders exactly what the command
line tools render, every time. The script uses the standard library only, so it starts fast.

Why the C libraries and not the command line tools: they report timing. espeak-ng sends a
phoneme event with the exact output sample at which each phoneme starts; Flite's utterance
holds each phone's end time in the wave it returns, linked to words and text tokens. Word
spans follow from those.

Protocol: a JSON request on stdin {"engine", "name", "params", "text", "tokens": [[char offset,
word], ...]}; on stdout one JSON line {"sample_rate", "spans", "version"} then the samples as
int16 little-endian bytes. Failures: a one-line message on stderr and exit status 3.
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import json
import sys

ZWSP = "\u200b"


class WorkerError(Exception):
    pass


# -- espeak-ng ------------------------------------------------------------------------------
_ESPEAK_INSTALL = "espeak-ng not found: apt-get install espeak-ng (libespeak-ng.so.1)"
_EV_END_LIST, _EV_WORD, _EV_END, _EV_PHONEME = 0, 1, 5, 7
_ESPEAK_PARAMS = {"rate": (1, 175), "volume": (2, 100), "pitch": (3, 50), "range": (4, 50),
                  "wordgap": (7, 0)}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p),
                ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


def espeak(name: str, params: dict, text: str, offsets: list[int]):
    """Synthesise; return (rate, int16 bytes, spans, version)."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1")
    except OSError:
        raise WorkerError(_ESPEAK_INSTALL) from None
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Info.restype = ctypes.c_char_p
    # synchronous output, phoneme events, never exit() on error
    rate = lib.espeak_Initialize(2, 0, None, 0x0001 | 0x8000)
    if rate <= 0:
        raise WorkerError("espeak-ng failed to initialise; " + _ESPEAK_INSTALL)
    if lib.espeak_SetVoiceByName(name.encode()) != 0:
        raise WorkerError(f"espeak-ng has no voice {name!r} (see `espeak-ng --voices=en`)")
    for key, (code, default) in _ESPEAK_PARAMS.items():
        lib.espeak_SetParameter(code, int(params.get(key, default)), 0)
    # A zero-width space before each word stops espeak-ng from voicing word pairs from its
    # dictionary ("in the", "of the") as one word, which would hide the boundary between them.
    synth_text, positions = _mark_words(text, offsets)
    chunks: list[bytes] = []
    events: list[tuple[int, int, int, bytes]] = []

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                      ctypes.POINTER(_Event))
    def callback(wav, n, ev):
        if n > 0:
            chunks.append(ctypes.string_at(wav, 2 * n))
        i = 0
        while ev[i].type != _EV_END_LIST:
            e = ev[i]
            events.append((e.type, e.text_position, e.sample,
                           e.id.string if e.type == _EV_PHONEME else b""))
            i += 1
        return 0

    lib.espeak_SetSynthCallback(callback)
    data = synth_text.encode("utf-8") + b"\0"
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    err = lib.espeak_Synth(data, len(data), 0, 1, 0, 1, None, None)  # POS_CHARACTER, UTF8
    lib.espeak_Synchronize()
    if err != 0:
        raise WorkerError(f"espeak-ng failed with error {err}")
    audio = b"".join(chunks)
    spans = _espeak_spans(events, positions, len(audio) // 2, len(synth_text))
    return rate, audio, spans, "espeak-ng " + (lib.espeak_Info(None) or b"").decode()


def _mark_words(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    """Insert ZWSP before every word but the first; return the text and the new offsets."""
    out, positions, prev = [], [], 0
    for k, off in enumerate(offsets):
        out.append(text[prev:off])
        if k:
            out.append(ZWSP)
        positions.append(sum(map(len, out)))
        prev = off
    out.append(text[prev:])
    return "".join(out), positions


def _espeak_spans(events, positions: list[int], n_samples: int, n_chars: int):
    """A word runs from its first phoneme to the next event after its last phoneme."""
    bounds = positions + [n_chars + 1]
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    word_at: dict[int, int] = {}
    for k, (kind, pos, sample, name) in enumerate(events):
        if kind not in (_EV_PHONEME, _EV_WORD) or pos <= 0:
            continue
        tok = bisect.bisect_right(bounds, pos - 1) - 1  # text_position is 1-based
        if not 0 <= tok < len(positions):
            continue
        if kind == _EV_WORD:
            word_at.setdefault(tok, k)
        elif not name.startswith(b"_"):  # "_", "_:" are pauses
            first.setdefault(tok, sample)
            last[tok] = k
    spans = []
    for tok in range(len(positions)):
        if tok in first:
            start, k = first[tok], last[tok]
        elif tok in word_at:
            k = word_at[tok]
            start = events[k][2]
        else:
            raise WorkerError(f"espeak-ng reported no timing for word {tok + 1}")
        anchor = events[k][2]
        end = next((e[2] for e in events[k + 1:]
                    if e[0] in (_EV_PHONEME, _EV_WORD, _EV_END) and e[2] > anchor), n_samples)
        spans.append((min(start, n_samples), min(end, n_samples)))
    return spans


# -- Flite ----------------------------------------------------------------------------------
_FLITE_INSTALL = "flite not found: apt-get install flite (libflite.so.1 and its voices)"
FLITE_VOICES = ("slt", "rms", "awb", "kal16", "kal")


class _Wave(ctypes.Structure):
    _fields_ = [("type", ctypes.c_char_p), ("sample_rate", ctypes.c_int),
                ("num_samples", ctypes.c_int), ("num_channels", ctypes.c_int),
                ("samples", ctypes.POINTER(ctypes.c_short))]


class _Voice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("features", ctypes.c_void_p)]


def _load(name: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        raise WorkerError(f"{_FLITE_INSTALL}; {name} is missing") from None


def flite(name: str, params: dict, text: str, words: list[str]):
    """Synthesise; return (rate, int16 bytes, spans, version)."""
    if name not in FLITE_VOICES:
        raise WorkerError(f"unknown flite voice {name!r}; known: {', '.join(FLITE_VOICES)}")
    lib = _load("libflite.so.1")
    for dep in ("libflite_usenglish.so.1", "libflite_cmulex.so.1"):
        _load(dep)
    vp = ctypes.c_void_p
    for fn, res, args in [
        ("flite_synth_text", vp, [ctypes.c_char_p, vp]),
        ("utt_relation", vp, [vp, ctypes.c_char_p]),
        ("relation_head", vp, [vp]),
        ("item_next", vp, [vp]),
        ("ffeature_string", ctypes.c_char_p, [vp, ctypes.c_char_p]),
        ("ffeature_float", ctypes.c_float, [vp, ctypes.c_char_p]),
        ("utt_wave", ctypes.POINTER(_Wave), [vp]),
        ("flite_feat_set_float", None, [vp, ctypes.c_char_p, ctypes.c_float]),
    ]:
        f = getattr(lib, fn)
        f.restype, f.argtypes = res, args
    lib.flite_init()
    register = getattr(_load(f"libflite_cmu_us_{name}.so.1"), f"register_cmu_us_{name}")
    register.restype, register.argtypes = vp, [ctypes.c_char_p]
    voice = register(None)
    if not voice:
        raise WorkerError(f"flite could not load voice {name!r}; {_FLITE_INSTALL}")
    features = ctypes.cast(voice, ctypes.POINTER(_Voice)).contents.features
    lib.flite_feat_set_float(features, b"duration_stretch",
                             float(params.get("duration_stretch", 1.0)))
    utt = lib.flite_synth_text(text.encode("utf-8"), voice)
    if not utt:
        raise WorkerError("flite returned no utterance")
    wave = lib.utt_wave(utt).contents
    rate, n = wave.sample_rate, wave.num_samples
    audio = ctypes.string_at(wave.samples, 2 * n)
    got = []
    item = lib.relation_head(lib.utt_relation(utt, b"Token"))
    while item:  # a token ("it's" -> it is) spans its words: from the end of the phone
        # before its first phone to the end of its last phone
        got.append(((lib.ffeature_string(item, b"name") or b"").decode(),
                    lib.ffeature_float(item, b"daughter1.R:SylStructure.daughter1.daughter1"
                                             b".R:Segment.p.end"),
                    lib.ffeature_float(item, b"daughtern.R:SylStructure.daughtern.daughtern"
                                             b".R:Segment.end")))
        item = lib.item_next(item)
    if [_norm(g[0]) for g in got] != [_norm(w) for w in words]:
        raise WorkerError(f"flite read the words as {[g[0] for g in got]}; use plain words "
                          "(numbers spelled out, no hyphens or abbreviations)")
    spans = [(min(round(s * rate), n), min(round(e * rate), n)) for _, s, e in got]
    return rate, audio, spans, "flite (libflite.so.1)"


def _norm(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def main() -> int:
    req = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    try:
        if req["engine"] == "espeak":
            out = espeak(req["name"], req["params"], req["text"], [t[0] for t in req["tokens"]])
        else:
            out = flite(req["name"], req["params"], req["text"], [t[1] for t in req["tokens"]])
    except WorkerError as e:
        sys.stderr.write(f"{e}\n")
        return 3
    rate, audio, spans, version = out
    if sys.byteorder != "little":  # the parent reads little-endian int16
        import array

        a = array.array("h", audio)
        a.byteswap()
        audio = a.tobytes()
    head = json.dumps({"sample_rate": rate, "spans": spans, "version": version})
    sys.stdout.buffer.write(head.encode() + b"\n" + audio)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
