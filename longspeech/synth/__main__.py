"""python -m longspeech.synth OUT_DIR --minutes M --speakers N --seed S [--snr DB] ..."""

from __future__ import annotations

import argparse
import sys

from ..errors import LongspeechError
from .recording import RecordingSpec
from .voices import parse_voice
from .write import AUDIO_FORMATS, write_recording


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m longspeech.synth",
        description="Write a synthetic multi-speaker recording with exact ground truth "
                    "(audio, .txt, .words.tsv, .rttm, .json).")
    p.add_argument("out_dir", help="directory to write into (created if missing)")
    p.add_argument("--minutes", type=float, default=1.0, help="length in minutes (default 1)")
    p.add_argument("--speakers", type=int, default=2, help="number of speakers (1-8)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same bytes")
    p.add_argument("--snr", type=float, default=None, help="add noise at this SNR in dB")
    p.add_argument("--noise", choices=("white", "pink"), default="white")
    p.add_argument("--format", choices=tuple(AUDIO_FORMATS), default="wav")
    p.add_argument("--stem", default=None, help="file name stem (default from the options)")
    p.add_argument("--long-silences", type=float, default=0.0, metavar="P",
                   help="chance that a turn gap is a 5-20 s silence")
    p.add_argument("--overlap", action="store_true", help="let some turns overlap")
    p.add_argument("--voices", default=None, metavar="LIST",
                   help="comma-separated engine:name voices, one per speaker "
                        "(e.g. flite:slt,espeak:en+m3; default: the built-in list)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    stem = a.stem or f"synth_{a.speakers}spk_{a.minutes:g}min_seed{a.seed}"
    try:
        voices = tuple(parse_voice(v.strip()) for v in a.voices.split(",")) if a.voices else ()
        spec = RecordingSpec(seed=a.seed, duration=a.minutes * 60.0, speakers=a.speakers,
                             voices=voices, snr_db=a.snr, noise=a.noise,
                             long_silence_prob=a.long_silences, overlap=a.overlap)
        paths = write_recording(spec, a.out_dir, stem, a.format)
    except LongspeechError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path in paths.all():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
