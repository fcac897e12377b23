"""OUT/index.html: the library page. Every recording (date, duration, speakers) and one
search box over all their lines; a hit opens that recording's report at the moment.

It works from the file system with no server: the lines travel in the page as one JSON
block (escaped as the reports escape theirs), and the search runs in the browser (every word
typed must begin a word of the line, so "strike" finds "strikes"; a word with another
English spelling in the lines finds that one too, as `longspeech search` does).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

from ..files import atomic_write_text
from ..report.html import human_duration, script_json
from .search import spellings
from .store import connect, info_rows, library_path

PAGE_FILE = "index.html"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 1.5rem;color:#1f2328}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{font-weight:600;background:#f6f8fa}
#q{font-size:1rem;padding:.45rem .6rem;width:100%;box-sizing:border-box;border:1px solid #8c959f;border-radius:6px}
#count{color:#57606a;margin:.5rem 0}
.hit{display:block;padding:.4rem .5rem;border-bottom:1px solid #eaeef2;color:inherit;text-decoration:none}
a.hit:hover{background:#f6f8fa}
.where{color:#57606a;font-size:.85rem;margin-right:.6rem}
.who{font-weight:600;margin-right:.4rem}
"""

_JS = r"""
(function () {
  var data = JSON.parse(document.getElementById('library-data').textContent);
  var input = document.getElementById('q'), list = document.getElementById('hits');
  var count = document.getElementById('count');
  var texts = data.lines.map(function (l) { return ' ' + l[3].toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ' '); });
  function clock(t) {
    var s = Math.floor(t), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), x = s % 60;
    var mm = (h ? String(m).padStart(2, '0') : String(m));
    return (h ? h + ':' : '') + mm + ':' + String(x).padStart(2, '0');
  }
  function words(q) { return q.toLowerCase().split(/[^\p{L}\p{N}']+/u).filter(Boolean); }
  function holds(text, w) {
    return text.indexOf(' ' + w) >= 0 || (data.spellings[w] || []).some(function (v) {
      return text.indexOf(' ' + v) >= 0; });
  }
  function show(q) {
    var ws = words(q), shown = 0, found = 0, recs = {};
    list.textContent = '';
    if (!ws.length) { count.textContent = data.lines.length + ' lines in ' + data.recordings.length + ' recordings'; return; }
    data.lines.forEach(function (l, i) {
      if (!ws.every(function (w) { return holds(texts[i], w); })) return;
      found++; recs[l[0]] = 1;
      if (shown >= 500) return;
      shown++;
      var rec = data.recordings[l[0]];
      var el = document.createElement(rec.report ? 'a' : 'div');
      el.className = 'hit';
      if (rec.report) el.href = encodeURIComponent(rec.stem) + '.html#t=' + l[1].toFixed(2);
      var where = document.createElement('span');
      where.className = 'where'; where.textContent = rec.stem + ' ' + clock(l[1]);
      el.appendChild(where);
      if (l[2]) { var who = document.createElement('span'); who.className = 'who'; who.textContent = l[2] + ':'; el.appendChild(who); }
      el.appendChild(document.createTextNode(l[3]));
      list.appendChild(el);
    });
    count.textContent = found + ' line' + (found === 1 ? '' : 's') + ' in ' + Object.keys(recs).length +
      ' recording(s)' + (found > shown ? ' (first ' + shown + ' shown)' : '');
    document.body.setAttribute('data-hits', String(found));
  }
  input.addEventListener('input', function () {
    show(input.value);
    try { history.replaceState(null, '', '#q=' + encodeURIComponent(input.value)); } catch (e) {}
  });
  var h = new URLSearchParams(location.hash.replace(/^#/, '')).get('q');
  if (h) input.value = h;
  show(input.value);
  document.body.setAttribute('data-ready', '1');
})();
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_page(out: Path) -> str:
    """The library page of OUT, from its index."""
    conn = connect(library_path(out))
    try:
        infos = info_rows(conn)
        index = {r.stem: i for i, r in enumerate(infos)}
        lines = [[index[stem], round(start, 2), speaker, text] for stem, start, speaker, text
                 in conn.execute("SELECT stem, start, speaker, text FROM segments "
                                 "ORDER BY stem, start")]
    finally:
        conn.close()
    lines.sort(key=lambda line: (line[0], line[1]))
    recs = [{"stem": r.stem, "report": (out / f"{r.stem}.html").is_file()} for r in infos]
    # Each other English spelling of a word the lines hold -> that word ("harbour" -> harbor)
    other: dict[str, list[str]] = {}
    for word in sorted({w for line in lines for w in _WORD.findall(line[3].lower())}):
        for form in spellings(word)[1:]:
            other.setdefault(form, []).append(word)
    rows = []
    for r, rec in zip(infos, recs):
        target = f"{quote(r.stem)}.html" if rec["report"] else f"{quote(r.stem)}.json"
        rows.append(f"<tr><td><a href=\"{_e(target)}\">{_e(r.stem)}</a></td>"
                    f"<td>{_e(r.date or '')}</td><td>{_e(human_duration(r.duration))}</td>"
                    f"<td>{_e(', '.join(r.speakers))}</td></tr>")
    total = sum(r.duration for r in infos)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Library: {_e(out.name)}</title><style>{_CSS}</style></head>
<body>
<h1>{len(infos)} recording(s), {_e(human_duration(total))}</h1>
<table><thead><tr><th>recording</th><th>date</th><th>duration</th><th>speakers</th></tr>
</thead><tbody>{''.join(rows)}</tbody></table>
<input id="q" type="search" placeholder="Search every recording" autocomplete="off">
<div id="count"></div><div id="hits"></div>
<script type="application/json" id="library-data">{script_json({"recordings": recs, "lines": lines, "spellings": other})}</script>
<script>{_JS}</script>
</body></html>
"""


def write_page(out: str | Path) -> Path:
    """Write OUT/index.html (atomically)."""
    out = Path(out)
    target = out / PAGE_FILE
    atomic_write_text(target, render_page(out))
    return target


__all__ = ["PAGE_FILE", "render_page", "write_page"]
