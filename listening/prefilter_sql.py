"""A query's requirements as an SQL condition on stored mentions.

`prefilter_condition(query, lists_by_platform)` returns a `Q` that every stored
mention the query matches satisfies: a necessary condition, never a sufficient
one, so candidates are then matched exactly in Python.

It is built from the matcher's own requirements (`query.prefilter.requirements`:
clauses that must all hold, each a set of alternatives of which one must hold;
an AND contributes its positive parts' clauses, an OR one clause joining each
operand's best one, NOT nothing). Each alternative becomes a condition on
`Mention.prefilter_text`, the stored skeleton of the post (`stored_haystack`):

- a text key is `prefilter_text LIKE '%key%'` (word boundaries are not checked:
  that only adds candidates);
- an attribute value (author, reply-to, platform, language, kind) is its
  skeleton as a whole line (`LIKE '%\nvalue\n%'`; the kind is the last line);
- "is a reply" and "has links" are conditions on their columns;
- a watch list is its members as author lines, when it has few enough.

An alternative that cannot be expressed makes its clause hold for every row, so
the clause is dropped. A row whose prefilter_text is NULL (not computed) is
always a candidate.
"""

import re

from django.db.models import F, Func, Q, TextField
from django.db.models.lookups import Contains, EndsWith

from listening.query.prefilter import TextKey, requirements
from listening.query.prepared import handle_key
from listening.query.text import fold, skeleton

# A watch list with more members than this is not narrowed on in SQL.
MAX_LIST_MEMBERS = 50
_ATTRIBUTES = ("author", "reply_to", "platform", "lang", "kind")
_NOTHING = Q(pk__in=[])
_TRIGRAM = re.compile(r"[^\W_]{3}")
_INDEXED = F("prefilter_text")
# The same text, as an expression the trigram index does not serve: conditions on it
# are checked on the rows the index (or the time index) found.
_CHECKED = Func(F("prefilter_text"), template="(%(expressions)s || '')", output_field=TextField())


def prefilter_condition(query, lists_by_platform=None) -> Q:
    """A necessary condition, in SQL, for a stored mention to match `query`.

    The most selective clause whose alternatives all hold three letters or digits in
    a row (text keys, handles, a short watch list's members) is left for the trigram
    index to find; the other clauses are checked on the rows it finds. Letting the
    index serve every clause costs more than it saves: each LIKE's trigrams are looked
    up, and a common one (`est` in `request`) has postings for many rows.
    """
    lists_by_platform = lists_by_platform or {}
    condition = Q()
    indexed = False
    for clause in requirements(query.root):  # most selective first
        searched = not indexed and all(_searchable(item, lists_by_platform) for item in clause)
        alternatives = [_alternative(item, lists_by_platform, _INDEXED if searched else _CHECKED) for item in clause]
        if any(alternative is None for alternative in alternatives):
            continue  # one alternative holds anywhere: so does the clause
        joined = Q()
        for alternative in alternatives:
            joined |= alternative
        condition &= joined if alternatives else _NOTHING
        indexed = indexed or searched
    return Q(prefilter_text__isnull=True) | condition if condition else Q()


def _searchable(item, lists_by_platform) -> bool:
    """Can the trigram index find this alternative (has it three letters or digits in a row)?"""
    if isinstance(item, TextKey):
        return _TRIGRAM.search(item.text) is not None
    if item[0] in _ATTRIBUTES:
        return _TRIGRAM.search(item[1]) is not None
    if item[0] == "list":
        members = _members(item[1], lists_by_platform)
        return len(members) <= MAX_LIST_MEMBERS and all(_TRIGRAM.search(member) for member in members)
    return False


def _alternative(item, lists_by_platform, column) -> Q | None:
    """One alternative as a condition; None when any row may satisfy it."""
    if isinstance(item, TextKey):
        return _contains(column, item.text)
    name = item[0]
    if name == "kind":  # the last line
        return Q(EndsWith(column, _stored("\n" + skeleton(item[1]))))
    if name in _ATTRIBUTES:  # a whole line
        return _line(column, skeleton(item[1]))
    if name == "replying":
        return ~Q(in_reply_to_handle="")
    if name == "has_links":
        return Q(links__len__gt=0)
    if name == "list":
        return _list_members(item[1], lists_by_platform, column)
    return None


def _stored(text: str) -> str:
    # Stored text has U+FFFD where a post had NUL, as PostgreSQL cannot hold NUL.
    return text.replace("\x00", "\ufffd")


def _contains(column, key: str) -> Q | None:
    return Q(Contains(column, _stored(key))) if key else None


def _line(column, value: str) -> Q:
    return Q(Contains(column, _stored("\n" + value + "\n")))


def _members(name_key: str, lists_by_platform) -> set[str]:
    """Handles (as compared) on the watch lists of that name, on any platform."""
    members = set()
    for lists in lists_by_platform.values():
        for name, handles in lists.items():
            if fold(name.strip()) == name_key:
                members.update(handle_key(handle) for handle in handles)
    members.discard("")  # an empty handle never matches an author
    return members


def _list_members(name_key: str, lists_by_platform, column) -> Q | None:
    members = _members(name_key, lists_by_platform)
    if len(members) > MAX_LIST_MEMBERS:
        return None
    joined = _NOTHING
    for member in sorted(members):
        joined |= _line(column, skeleton(member))  # the author's line
    return joined
