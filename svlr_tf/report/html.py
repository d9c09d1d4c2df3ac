"""The report as one self-contained HTML page: ``<out>/index.html``.

    from svlr_tf.report.html import write_page
    write_page(markdown_text, out_dir, "SVLR reproduction: every result")

The page is the report's Markdown rendered by the ``markdown`` package (tables,
code, heading anchors) under a contents list and a stylesheet of its own; every
picture the Markdown links (relative to ``out_dir``) is embedded as a data URI, so
the file shows them anywhere, alone or copied.  It loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import os
import re

from svlr_tf.runtime.errors import DataError
from svlr_tf.runtime.files import atomic_write_text

_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --tint: #f6f8fa;
        --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 16px/1.6 -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans",
             Helvetica, Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
h1 { font-size: 2rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.45rem; margin: 2.75rem 0 0.75rem; padding-bottom: 0.3rem;
     border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.15rem; margin: 1.75rem 0 0.5rem; }
p, ul, ol { margin: 0 0 1rem; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 0.875em/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
       background: var(--tint); padding: 0.1em 0.35em; border-radius: 4px; }
pre { background: var(--tint); padding: 0.9rem 1rem; border-radius: 6px;
      overflow-x: auto; }
pre code { padding: 0; background: none; }
.table-wrap { overflow-x: auto; margin: 0 0 1.25rem; }
table { border-collapse: collapse; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--rule); padding: 0.35rem 0.7rem; vertical-align: top; }
td:not(:first-child) { white-space: nowrap; }  /* "55.50 ± 0.25" on one line */
th { background: var(--tint); text-align: left; font-weight: 600; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
figure { margin: 1.25rem 0 1.75rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule);
             border-radius: 4px; }
figcaption { color: var(--muted); font-size: 0.875rem; margin-top: 0.4rem; }
nav.contents { background: var(--tint); border: 1px solid var(--rule); border-radius: 6px;
               padding: 0.75rem 1.25rem; margin: 0 0 1.5rem; font-size: 0.95rem; }
nav.contents ol { margin: 0.25rem 0 0; padding-left: 1.25rem; }
nav.contents strong { font-weight: 600; }
strong { font-weight: 600; }
"""


def _data_uri(path: str) -> str:
  with open(path, "rb") as f:
    data = f.read()
  if not data.startswith(b"\x89PNG\r\n\x1a\n"):
    raise DataError(path, "not a PNG picture (the report embeds only PNGs)")
  return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def embed_images(body: str, out_dir: str) -> str:
  """``<img src="rel.png">`` -> the PNG as a data URI (read from ``out_dir``).
  A source outside ``out_dir`` (absolute, or climbing out with ``..``) is an
  error: the page must not depend on where it was written."""
  def embed(match):
    src = html.unescape(match.group(2))
    if src.startswith("data:"):
      return match.group(0)
    relative = os.path.normpath(src)
    if os.path.isabs(src) or relative.startswith(".."):
      raise DataError(src, "a report picture outside the report directory")
    return match.group(1) + _data_uri(os.path.join(out_dir, relative)) + match.group(3)
  return _IMG_SRC.sub(embed, body)


def _figures(body: str) -> str:
  """A paragraph that is only a picture -> a figure with its alt text as caption."""
  def figure(match):
    alt = re.search(r'\balt="([^"]*)"', match.group(1))
    caption = f"<figcaption>{alt.group(1)}</figcaption>" if alt and alt.group(1) else ""
    return f"<figure>{match.group(1)}{caption}</figure>"
  return re.sub(r"<p>\s*(<img\b[^>]*>)\s*</p>", figure, body)


def _contents(toc_tokens) -> str:
  """The second-level headings as a numbered list of links."""
  items, stack = [], list(toc_tokens)
  while stack:
    token = stack.pop(0)
    if token.get("level") == 2:
      items.append(token)
    stack[:0] = token.get("children", [])
  if not items:
    return ""
  links = "".join(f'<li><a href="#{html.escape(t["id"])}">{t["name"]}</a></li>'
                  for t in items)
  return f'<nav class="contents"><strong>Contents</strong><ol>{links}</ol></nav>'


def render(markdown_text: str, out_dir: str, title: str) -> str:
  """The page's HTML (pictures embedded)."""
  import markdown  # pylint: disable=import-outside-toplevel
  converter = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists", "toc"],
                                extension_configs={"toc": {"toc_depth": "2"}})
  body = converter.convert(markdown_text)
  body = re.sub(r"<table>", '<div class="table-wrap"><table>', body)
  body = re.sub(r"</table>", "</table></div>", body)
  body = embed_images(_figures(body), out_dir)
  contents = _contents(converter.toc_tokens)
  # The contents list goes after the first heading's introduction (before the first h2).
  head, h2, rest = body.partition("<h2")
  body = head + contents + h2 + rest if h2 else body + contents
  return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
          f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def write_page(markdown_text: str, out_dir: str, title: str) -> str:
  """Writes ``<out_dir>/index.html`` atomically; returns its path."""
  path = os.path.join(out_dir, "index.html")
  atomic_write_text(path, render(markdown_text, out_dir, title))
  return path
