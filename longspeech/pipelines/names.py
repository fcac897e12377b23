"""Output names: OUT/<stem>.<format> for each input, deterministic and collision-free.

A stem depends on the set of inputs, never on their order: an input whose file stem no
other input shares keeps it (talk.wav -> talk); inputs that share one are told apart by
their extension (talk.wav, talk.mp3 -> talk.wav, talk.mp3) and then by as many parent
folders as it takes, joined with "__" (a/x.wav, b/x.wav -> a__x, b__x; with a/x.mp3 as
well: a__x.wav, b__x.wav, a__x.mp3). Stems are plain
file names: no path separators, never "." or "..", no leading dot.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

RESERVED = frozenset({"job_summary", "answers", "index"})   # index.html: the library page
_UNSAFE = re.compile(r"[\x00-\x1f/\\]")


def safe_stem(text: str) -> str:
    """`text` as a plain, visible file name (control characters and separators replaced)."""
    stem = _UNSAFE.sub("_", text).strip()
    stem = stem.lstrip(".") or "audio"
    return f"{stem}_" if stem in RESERVED else stem


def _candidate(path: Path, level: int) -> str:
    """Even levels the stem, odd levels the file name, after level // 2 parent folders."""
    parents = [p.name for p in path.absolute().parents][:level // 2][::-1]
    return "__".join([*parents, path.name if level % 2 else path.stem])


def output_stems(paths: Sequence[Path]) -> list[str]:
    """One unique stem per input, in the inputs' order."""
    stems: dict[Path, str] = {}
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in sorted(set(paths), key=str):
        groups[safe_stem(p.stem)].append(p)
    for stem, group in groups.items():
        level = 0
        while True:
            names = [safe_stem(_candidate(p, level)) for p in group]
            deepest = 2 * max(len(p.absolute().parents) for p in group) + 2
            if len(set(names)) == len(names) or level > deepest:
                break
            level += 1
        for p, name in zip(group, names):
            stems[p] = name
    taken: set[str] = set()
    for p in sorted(stems, key=str):          # a name made above may equal another's stem
        base, n = stems[p], 1
        while stems[p] in taken:
            n += 1
            stems[p] = f"{base}-{n}"
        taken.add(stems[p])
    return [stems[p] for p in paths]
