"""The report's inline stylesheet and script (no network: no CDN, no web fonts).

The script reads only the DOM and one JSON block; it never builds HTML from strings, so
transcript text can only ever reach the page as text.
"""

CSS = """
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--hit:#fff3b0;
--fix:#d8f5d0;--playing:#e7f0fb}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:16px 20px 80px}
h1{font-size:1.45em;margin:.2em 0;word-break:break-word}
h2{font-size:1.1em;margin:1.6em 0 .6em;border-bottom:1px solid var(--line);padding-bottom:.2em}
.meta{color:var(--muted);margin:0;word-break:break-all}
.figures{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0;padding:0}
.figure{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:8px 14px;
min-width:150px}
.figure dt{color:var(--muted);font-size:.8em;text-transform:uppercase;letter-spacing:.04em}
.figure dd{margin:0;font-size:1.35em;font-weight:600;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{height:10px;border-radius:3px;min-width:1px}
.bar-cell{width:35%}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.4em;
vertical-align:baseline;background:var(--c)}
.timeline{position:relative}
.axis{position:relative;height:1.4em;margin-left:var(--label-w);color:var(--muted);
font-size:.75em}
.tick{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap}
.tick::before{content:"";position:absolute;left:50%;top:1.3em;height:4px;border-left:1px solid
var(--line)}
.lane{display:flex;align-items:center;height:26px;margin:3px 0}
.lane-label{width:var(--label-w);flex:none;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap;padding-right:8px;font-size:.85em}
.track{position:relative;flex:1;height:100%;background:var(--soft);border-radius:4px}
.block{position:absolute;top:3px;bottom:3px;min-width:1px;border-radius:2px;background:var(--c);
opacity:.9}
body.has-audio .block,body.has-audio .line{cursor:pointer}
.cursor{position:absolute;top:0;bottom:0;width:2px;background:#d1242f;pointer-events:none;
display:none}
body.has-audio .cursor{display:block}
.controls{position:sticky;top:0;z-index:1;background:var(--bg);padding:6px 0 8px;
margin-bottom:8px;border-bottom:1px solid var(--line)}
.controls audio{width:100%;display:block;margin-bottom:6px}
.search{display:flex;gap:12px;align-items:center}
.search input{flex:1;font:inherit;padding:6px 10px;border:1px solid var(--line);
border-radius:6px}
#count{color:var(--muted);font-size:.9em;white-space:nowrap}
.turn{margin:0 0 12px;padding-left:10px;border-left:4px solid var(--c)}
.turn-head{font-size:.85em;color:var(--muted)}
.turn-head .speaker{font-weight:600;color:var(--fg)}
.line{margin:2px 0;padding:1px 6px;border-radius:4px;display:flex;gap:10px}
.line:hover,.line:focus{background:var(--soft);outline:none}
.line.playing{background:var(--playing)}
.line .ts{color:var(--muted);font-size:.8em;font-variant-numeric:tabular-nums;flex:none;
min-width:4.2em;padding-top:.2em}
.line .text{flex:1;white-space:pre-wrap;word-break:break-word}
mark.fix{background:var(--fix);border-bottom:1px dotted #2da44e;color:inherit}
.fix-note{color:#1a7f37;font-size:.85em}
tr.rejected td{color:var(--muted)}
tr.rejected td.corr{text-decoration:line-through}
::highlight(search){background:var(--hit)}
.empty{color:var(--muted)}
footer{margin-top:3em;color:var(--muted);font-size:.8em}
@media print{.controls{display:none}.line{break-inside:avoid}}
"""

JS = r"""
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var audio = document.getElementById('player');
  var input = document.getElementById('q');
  var count = document.getElementById('count');
  var noMatch = document.getElementById('no-match');
  var lines = Array.prototype.slice.call(document.querySelectorAll('#transcript .line'));
  var turns = Array.prototype.slice.call(document.querySelectorAll('#transcript .turn'));
  var texts = lines.map(function (l) { return l.querySelector('.text').textContent.toLowerCase(); });
  var starts = lines.map(function (l) { return parseFloat(l.getAttribute('data-start')); });
  var order = starts.map(function (_, i) { return i; }).sort(function (a, b) { return starts[a] - starts[b]; });

  function terms(q) { return q.toLowerCase().split(/\s+/).filter(Boolean); }

  function highlight(ts) {
    if (!(window.CSS && CSS.highlights && window.Highlight)) return;
    CSS.highlights.delete('search');
    if (!ts.length) return;
    var ranges = [];
    lines.forEach(function (l) {
      if (l.hidden) return;
      var walker = document.createTreeWalker(l.querySelector('.text'), NodeFilter.SHOW_TEXT);
      for (var node = walker.nextNode(); node; node = walker.nextNode()) {
        var low = node.data.toLowerCase();
        if (low.length !== node.data.length) continue;
        ts.forEach(function (t) {
          for (var at = low.indexOf(t); at >= 0; at = low.indexOf(t, at + t.length)) {
            var r = new Range(); r.setStart(node, at); r.setEnd(node, at + t.length); ranges.push(r);
          }
        });
      }
    });
    CSS.highlights.set('search', new Highlight(...ranges));
  }

  function apply(q) {
    var ts = terms(q), shown = 0;
    lines.forEach(function (l, i) {
      var ok = ts.every(function (t) { return texts[i].indexOf(t) >= 0; });
      l.hidden = !ok;
      if (ok) shown++;
    });
    turns.forEach(function (t) { t.hidden = !t.querySelector('.line:not([hidden])'); });
    count.textContent = ts.length ? shown + ' of ' + lines.length + ' lines' : lines.length + ' lines';
    noMatch.hidden = shown > 0 || !lines.length;
    document.body.setAttribute('data-shown', String(shown));
    highlight(ts);
  }

  function params() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ''));
    var s = new URLSearchParams(location.search);
    return { q: h.get('q') !== null ? h.get('q') : (s.get('q') || ''),
             t: h.get('t') !== null ? h.get('t') : s.get('t') };
  }

  function setHash(q) {
    var url = location.pathname + location.search + (q ? '#q=' + encodeURIComponent(q) : '');
    try { history.replaceState(null, '', url); } catch (e) { /* some file: URLs refuse */ }
  }

  function lineAt(t) {
    var lo = 0, hi = order.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[order[mid]] <= t) { found = order[mid]; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function seek(t, play) {
    if (!audio || !isFinite(t)) return;
    audio.currentTime = t;
    if (play) { var p = audio.play(); if (p && p.catch) p.catch(function () {}); }
  }

  var playing = -1;
  var cursor = document.querySelectorAll('.cursor');
  function follow() {
    var t = audio.currentTime, i = lineAt(t);
    if (i >= 0 && parseFloat(lines[i].getAttribute('data-end')) < t - 1) i = -1;
    if (i !== playing) {
      if (playing >= 0) lines[playing].classList.remove('playing');
      if (i >= 0) lines[i].classList.add('playing');
      playing = i;
    }
    var left = data.duration > 0 ? Math.min(100, 100 * t / data.duration) + '%' : '0';
    cursor.forEach(function (c) { c.style.left = left; });
  }

  if (audio) {
    document.body.classList.add('has-audio');
    lines.forEach(function (l) { l.tabIndex = 0; });
    document.addEventListener('click', function (ev) {
      var el = ev.target.closest('.line, .block');
      if (!el) return;
      var sel = window.getSelection();
      if (sel && !sel.isCollapsed && el.classList.contains('line')) return;
      seek(parseFloat(el.getAttribute('data-start')), true);
    });
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && ev.target.classList && ev.target.classList.contains('line')) {
        seek(parseFloat(ev.target.getAttribute('data-start')), true);
      }
    });
    audio.addEventListener('timeupdate', follow);
    audio.addEventListener('seeked', follow);
  }

  document.addEventListener('keydown', function (ev) {
    if (ev.key === '/' && document.activeElement !== input) { ev.preventDefault(); input.focus(); }
  });
  input.addEventListener('input', function () { apply(input.value); setHash(input.value.trim()); });

  function fromUrl() {
    var p = params();
    input.value = p.q;
    apply(p.q);
    if (p.t !== null && p.t !== '') {
      var t = parseFloat(p.t), i = lineAt(t);
      if (i >= 0) lines[i].scrollIntoView({ block: 'center' });
      if (audio) {
        if (audio.readyState > 0) seek(t, false);
        else audio.addEventListener('loadedmetadata', function () { seek(t, false); }, { once: true });
      }
    }
  }
  window.addEventListener('hashchange', fromUrl);
  fromUrl();
  document.body.setAttribute('data-ready', '1');
})();
"""
