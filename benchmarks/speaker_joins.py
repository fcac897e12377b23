"""When the embedded diarizer joins two clusters into one speaker, is the join right?

Clusters whose centroids are more alike than DiarizationOptions.merge_similarity (0.85) are
joined. One real voice recorded over years splits into clusters that alike, and so do two
voices of one speech synthesiser: this script diarizes recordings of both kinds and lists,
for each, the count the clustering found, the lowest similarity at which it joined two
clusters, the final count, the true count and the count's confidence
(`provenance.diarization.speaker_count`). Recordings:
  - the QA benchmark's 16 synthetic meetings (benchmarks/qa_structure.py, 2-4 voices);
  - the ten real Dutch dialogues (benchmarks/data/dialogues_nl);
  - the two single-voice recordings of benchmarks/single_voice.py, whole and in pieces.

    .venv/bin/python benchmarks/speaker_joins.py --work /tmp/qa --cache /tmp/longspeech_single_voice
Results: benchmarks/results/speaker_joins.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def recordings(work: Path, cache: Path) -> list[tuple[str, Path, int]]:
    """(kind, audio, true speaker count) of every recording, built where missing."""
    import qa_structure
    import single_voice
    from diarization import REAL_DIR

    out = [("synthetic meeting", path, len(meta["speakers"]))
           for _, path, meta in qa_structure.build(work / "audio", 4, 10.0)]
    for audio in sorted(REAL_DIR.glob("*.flac")):
        rttm = audio.with_suffix(".rttm").read_text().splitlines()
        out.append(("real dialogue", audio, len({line.split()[7] for line in rttm if line})))
    for voice in single_voice.PACKAGES:
        whole = single_voice.recording(voice, cache)
        out += [("one real voice", p, 1)
                for p in single_voice.pieces(voice, whole, cache) + [whole]]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa"),
                    help="where the QA benchmark's meetings are (built if missing)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/longspeech_single_voice"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "speaker_joins.json")
    a = ap.parse_args()
    from longspeech.diarization import DiarizationOptions
    from longspeech.diarization.embedded import EmbeddedBackend

    backend = EmbeddedBackend()
    rows = []
    for kind, audio, truth in recordings(a.work, a.cache):
        ann = backend.diarize(str(audio), DiarizationOptions())
        count = backend.last_count or {}
        rows.append({"kind": kind, "file": audio.name, "clusters": backend.last_estimated_speakers,
                     "joined_at": count.get("merged_similarity"), "speakers": len(ann.labels()),
                     "truth": truth, "confidence": count.get("confidence")})
        print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        joined = [r for r in mine if r["joined_at"] is not None]
        summary[kind] = {
            "recordings": len(mine),
            "count_right": sum(r["speakers"] == r["truth"] for r in mine),
            "with_a_join": len(joined),
            "join_right": sum(r["speakers"] == r["truth"] for r in joined),
            "joined_at": sorted(r["joined_at"] for r in joined),
            "low_confidence": sum(r["confidence"] == "low" for r in mine),
            "wrong_and_low": sum(r["speakers"] != r["truth"] and r["confidence"] == "low"
                                 for r in mine),
            "wrong": sum(r["speakers"] != r["truth"] for r in mine)}
    result = {"command": "benchmarks/speaker_joins.py " + " ".join(sys.argv[1:]),
              "summary": summary, "rows": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
