"""Full-text search over an inbox's mentions, on `listening_mention.search_vector`.

The vector is built with PostgreSQL's English configuration (migration
listening 0002), which drops the `@` of a handle and the `#` of a hashtag and
splits a URL into its host and path. So a search is parsed here into terms, and
each becomes SQL that the GIN index on the vector can answer, with an exact
check for what the vector cannot tell apart:

- words and "quoted phrases": `plainto_tsquery` / `phraseto_tsquery` (stemmed,
  stop words dropped, as the vector was built);
- `#tag`: the tag's word in the vector, then the text must contain `#tag` as typed
  (not `#tags`, not a bare `tag`);
- `@handle`: posts by that author (case-insensitive, its own index), or posts whose
  text contains `@handle` as typed (the handle's words in the vector first);
- a link (`https://…`, `ico.org.uk/news`): its host and path tokens in the vector;
- `-word`: posts without it.

Every term must match (AND). All parameters go to the database as parameters; a
search is at most `MAX_LENGTH` characters and `MAX_TERMS` terms.
"""

import re
from dataclasses import dataclass

from django.db.models import BooleanField, Expression, F, TextField

MAX_LENGTH = 200
MAX_TERMS = 12
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_HANDLE = re.compile(r"@([\w][\w.\-]*(?:@[\w.\-]+)?)")
_TAG = re.compile(r"#(\w+)")
_URL = re.compile(r"^(?:https?://)?((?:[\w\-]+\.)+[a-z]{2,}(?:[/?#]\S*)?)$", re.IGNORECASE)
_MARK_START, _MARK_END = "\x02", "\x03"


class SearchTooLong(ValueError):
    pass


def _regex_literal(text: str) -> str:
    """`text` as a literal inside a PostgreSQL (ARE) regular expression."""
    return "".join(ch if ch.isalnum() else "\\" + ch for ch in text)


def _as_typed(sigil: str, word: str) -> str:
    """A regular expression for `#word` or `@word` standing on its own, as typed."""
    return f"(^|[^[:alnum:]_@#]){_regex_literal(sigil + word)}([^[:alnum:]_@]|$)"


@dataclass(frozen=True)
class ParsedSearch:
    text: str = ""
    # (SQL function, argument) pairs combined with && into one tsquery.
    lexemes: tuple[tuple[str, str], ...] = ()
    excluded: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()

    def __bool__(self):
        return bool(self.lexemes or self.tags or self.handles)

    @property
    def words(self) -> list[str]:
        """What was searched for, as typed, for the page to say."""
        return [self.text] if self.text else []


def search_parse(text: str) -> ParsedSearch:
    text = " ".join((text or "").split())
    if len(text) > MAX_LENGTH:
        raise SearchTooLong(f"Search for at most {MAX_LENGTH} characters.")
    lexemes, excluded, tags, handles = [], [], [], []
    terms = 0
    for match in _TOKEN.finditer(text):
        negated, phrase, token = match.group(1), match.group(2), match.group(3)
        terms += 1
        if terms > MAX_TERMS:
            raise SearchTooLong(f"Search for at most {MAX_TERMS} words, tags, handles or links.")
        if phrase is not None:
            if phrase.strip():
                if negated:
                    excluded.append(phrase)
                else:
                    lexemes.append(("phraseto_tsquery", phrase))
            continue
        if token.startswith("-") and len(token) > 1:
            excluded.append(token[1:].lstrip("#@"))
            continue
        if (handle := _HANDLE.fullmatch(token.rstrip(".,;:!?"))) is not None:
            handles.append(handle.group(1))
        elif (tag := _TAG.fullmatch(token.rstrip(".,;:!?"))) is not None:
            tags.append(tag.group(1))
        elif (url := _URL.match(token)) is not None:
            lexemes.append(("plainto_tsquery", url.group(1)))
        else:
            lexemes.append(("plainto_tsquery", token))
    return ParsedSearch(text, tuple(lexemes), tuple(excluded), tuple(tags), tuple(handles))


class _OnMention(Expression):
    """An expression over the mention joined to an inbox item, found through one of its columns.

    `anchor` is any column of the mention: resolving it gives the join's alias, also
    inside subqueries, which `as_sql` then names.
    """

    def __init__(self, anchor=None):
        super().__init__()
        self.anchor = anchor if anchor is not None else F("mention__text")

    def get_source_expressions(self):
        return [self.anchor]

    def set_source_expressions(self, exprs):
        (self.anchor,) = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        copy = self.copy()
        copy.anchor = self.anchor.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return copy


class MentionSearch(_OnMention):
    """A condition on the mention joined to an inbox item: does it match the parsed search?"""

    conditional = True
    output_field = BooleanField()

    def __init__(self, parsed: ParsedSearch, anchor=None):
        super().__init__(anchor)
        self.parsed = parsed

    def as_sql(self, compiler, connection):
        m = compiler.quote_name_unless_alias(self.anchor.alias)
        parts, params = [], []
        tsquery, tsparams = _tsquery(self.parsed, with_excluded=True)
        if tsquery:
            parts.append(f"{m}.search_vector @@ ({tsquery})")
            params += tsparams
        body = f"coalesce({m}.title, '') || ' ' || coalesce({m}.text, '')"
        # The planner guesses a regular expression matches almost nothing, and would then read every
        # post with the word before sorting; behind coalesce() it guesses one in two, which is nearer.
        typed = f"coalesce({body} ~* %s, false)"
        for tag in self.parsed.tags:
            # The tag's word narrows by the index; a stop-word tag (#the) leaves the regular expression alone.
            parts.append(
                f"(numnode(plainto_tsquery('english', %s)) = 0 OR {m}.search_vector @@ plainto_tsquery('english', %s))"
                f" AND {typed}"
            )
            params += [tag, tag, _as_typed("#", tag)]
        for handle in self.parsed.handles:
            parts.append(
                f"(upper({m}.author_handle) = upper(%s) OR ({m}.search_vector @@ plainto_tsquery('english', %s)"
                f" AND {typed}))"
            )
            params += [handle, handle.split("@")[0], _as_typed("@", handle)]
        if not parts:
            return "FALSE", []
        return "(" + " AND ".join(f"({part})" for part in parts) + ")", params


def _tsquery(parsed: ParsedSearch, *, with_excluded: bool) -> tuple[str, list]:
    pieces, params = [], []
    for function, argument in parsed.lexemes:
        pieces.append(f"{function}('english', %s)")
        params.append(argument)
    if with_excluded:
        for word in parsed.excluded:
            pieces.append("!! phraseto_tsquery('english', %s)")
            params.append(word)
    return " && ".join(pieces), params


class SearchHeadline(_OnMention):
    """The mention's `field` with every searched word between \\x02 and \\x03 (ts_headline).

    The markers are first removed from the text, so a post cannot forge one.
    """

    output_field = TextField()

    def __init__(self, parsed: ParsedSearch, column: str, anchor=None):
        super().__init__(anchor)
        self.parsed, self.column = parsed, column

    def as_sql(self, compiler, connection):
        m = compiler.quote_name_unless_alias(self.anchor.alias)
        pieces, params = [], []
        for function, argument in self.parsed.lexemes:
            pieces.append(f"{function}('english', %s)")
            params.append(argument)
        for word in list(self.parsed.tags) + [handle.split("@")[0] for handle in self.parsed.handles]:
            pieces.append("plainto_tsquery('english', %s)")
            params.append(word)
        if not pieces:
            return "NULL::text", []
        column = f"{m}.{connection.ops.quote_name(self.column)}"
        sql = (
            f"ts_headline('english', translate({column}, %s, ''), ({' && '.join(pieces)}),"
            f" 'StartSel=\x02, StopSel=\x03, HighlightAll=true')"
        )
        return sql, [_MARK_START + _MARK_END] + params


def headline_spans(original: str, headline: str | None) -> list[tuple[int, int]]:
    """The marked stretches of a headline, as (start, end) in `original`; none if they cannot be placed."""
    if not headline or _MARK_START not in headline:
        return []
    spans, plain, start = [], [], None
    for ch in headline:
        if ch == _MARK_START:
            start = len(plain)
        elif ch == _MARK_END:
            if start is not None:
                spans.append((start, len(plain)))
            start = None
        else:
            plain.append(ch)
    if "".join(plain) != original:  # the text held a marker character, or was rewritten: place nothing
        return []
    return spans
