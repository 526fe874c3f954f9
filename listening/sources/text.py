"""Plain text from the HTML platforms send (Mastodon statuses, feed summaries).

`html_to_text(markup)` returns the text a reader sees, with the addresses of its links
kept in the text, and the links themselves. Posts are never stored as markup.

The markup is attacker-controlled, so it is read by one left-to-right scan that never
looks back: each `<` is either a tag (up to the next `>`), a comment (up to `-->`),
or text, and the next `>` is found once for a whole run of `<`s. The cost is linear
in the input, which is cut at `MAX_MARKUP_CHARS` first. (HTML sanitisers that build a
document tree, and the standard library's parser, slow down quadratically on some
hostile inputs: deeply nested blocks, long runs of `&`, unclosed comments.)

- Scripts, styles and comments are dropped; character references are decoded.
- `<p>` and other blocks become blank lines, `<br>` a line break; spaces close up.
- Only http(s) links count. A link whose text is its own address (Mastodon hides the
  scheme and elides the middle in spans) is written as the full address; a link with
  other words is written `words (address)`. Mention and hashtag links
  (`class="mention"` or `"hashtag"`, or text starting `@`/`#`) keep their text
  (`@jane`, `#GDPR`) and are not links of the post: they point at a profile or a tag
  page on the instance.
"""

import html
import re

MAX_MARKUP_CHARS = 200_000
MAX_LINKS = 100

_BLOCK = frozenset({"p", "div", "blockquote", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr", "table"})
_SKIP_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg", "math"})
_TAG_NAME = re.compile(r"/?([A-Za-z][A-Za-z0-9-]*)")
_ATTRIBUTE = re.compile(r"""([^\s"'=/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _attributes(tag_text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in _ATTRIBUTE.findall(tag_text):
        name = name.lower()
        if name not in found:
            found[name] = html.unescape(value[1:-1] if value[:1] in "\"'" and len(value) >= 2 else value)
    return found


def _bare(address: str) -> str:
    address = re.sub(r"^(?i:https?://)?(?i:www\.)?", "", address.strip())
    return address.rstrip("/…").rstrip(".").lower()


def _same_address(text: str, href: str) -> bool:
    """Whether link text is the address itself, perhaps shortened (`ico.org.uk/for-org…`)."""
    shown, full = _bare(text), _bare(href)
    return bool(shown) and (shown == full or (text.rstrip().endswith("…") and full.startswith(shown)))


class _Reader:
    def __init__(self):
        self.parts: list[str] = []
        self.links: list[str] = []
        self.link: tuple[str, str] | None = None  # (href, class) of the <a> being read
        self.link_text: list[str] = []

    def text(self, raw: str) -> None:
        if raw:
            self.emit(html.unescape(raw))

    def emit(self, text: str) -> None:
        if self.link is not None:
            self.link_text.append(text)
        else:
            self.parts.append(text)

    def tag(self, name: str, closing: bool, tag_text: str) -> None:
        if name == "br":
            self.emit("\n")
        elif name in _BLOCK:
            self.emit("\n\n")
        elif name == "a" and not closing and self.link is None:
            attributes = _attributes(tag_text)
            href = attributes.get("href", "").strip()
            self.link = (href if re.match(r"(?i)https?://", href) else "", attributes.get("class", ""))
            self.link_text = []
        elif name == "a" and closing and self.link is not None:
            self.end_link()

    def end_link(self) -> None:
        href, css = self.link
        self.link = None
        text = " ".join("".join(self.link_text).split())
        classes = css.split()
        if "mention" in classes or "hashtag" in classes or text.startswith(("@", "#")) or not href:
            self.parts.append(text)
            return
        if len(self.links) < MAX_LINKS and href not in self.links:
            self.links.append(href)
        self.parts.append(href if not text or _same_address(text, href) else f"{text} ({href})")


def html_to_text(markup: str) -> tuple[str, list[str]]:
    """(plain text, links) from a fragment of HTML. Linear time; never raises on bad markup."""
    if not markup or not isinstance(markup, str):
        return "", []
    markup = markup[:MAX_MARKUP_CHARS]
    lower = markup.lower()
    reader = _Reader()
    size, i, next_gt = len(markup), 0, -1
    while i < size:
        j = markup.find("<", i)
        if j == -1:
            reader.text(markup[i:])
            break
        reader.text(markup[i:j])
        if markup.startswith("<!--", j):
            end = markup.find("-->", j + 4)
            if end == -1:
                break  # an unclosed comment hides the rest
            i = end + 3
            continue
        if next_gt < j:
            next_gt = markup.find(">", j)
        if next_gt == -1:
            reader.text(markup[j:])  # no tag can close: the rest is text
            break
        name = _TAG_NAME.match(markup, j + 1, next_gt)
        if name is None and markup[j + 1 : j + 2] not in ("!", "?"):
            reader.text("<")  # `<` that starts no tag, e.g. "a < b"
            i = j + 1
            continue
        tag_end = next_gt + 1
        if name is not None:
            tag_name = name.group(1).lower()
            closing = markup[j + 1] == "/"
            reader.tag(tag_name, closing, markup[name.end() : next_gt])
            if tag_name in _SKIP_CONTENT and not closing and not markup[next_gt - 1] == "/":
                close = lower.find(f"</{tag_name}", tag_end)
                if close == -1:
                    break
                gt = markup.find(">", close)
                tag_end = size if gt == -1 else gt + 1
        i = tag_end  # declarations (<!DOCTYPE>, <?xml?>) are dropped with their tag
    if reader.link is not None:  # an <a> left open: keep its words and address
        reader.end_link()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(reader.parts).split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return text, reader.links
