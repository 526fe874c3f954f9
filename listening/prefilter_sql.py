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
the clause cannot be used; of the others, one is (see `prefilter_condition`). A
row whose prefilter_text is NULL (not computed) is always a candidate.
"""

import re

from django.db.models import Q

from listening.query.prefilter import TextKey, requirements
from listening.query.prepared import handle_key
from listening.query.text import fold, skeleton

# A watch list with more members than this is not narrowed on in SQL.
MAX_LIST_MEMBERS = 50
_ATTRIBUTES = ("author", "reply_to", "platform", "lang", "kind")
_NOTHING = Q(pk__in=[])
_TRIGRAM = re.compile(r"[^\W_]{3}")


def prefilter_condition(query, lists_by_platform=None) -> Q:
    """A necessary condition, in SQL, for a stored mention to match `query`.

    One clause is used: the most selective one the trigram index can find (every
    alternative holds three letters or digits in a row: text keys, handles, a short
    watch list's members), else the most selective one that can be expressed at all.
    More clauses would narrow the candidates further, but the planner takes them as
    independent while a query's words come together (`subject` and `access`), so it
    expects a handful of rows and picks a plan that reads thousands; and each LIKE
    the index serves costs a lookup of each of its trigrams. The exact match in
    Python checks everything else, behind the matcher's own cheaper prefilter.
    """
    lists_by_platform = lists_by_platform or {}
    expressible = []
    for clause in requirements(query.root):  # most selective first
        alternatives = [_alternative(item, lists_by_platform) for item in clause]
        if any(alternative is None for alternative in alternatives):
            continue  # one alternative holds anywhere: so does the clause
        searchable = all(_searchable(item, lists_by_platform) for item in clause)
        expressible.append((not searchable, alternatives))
    if not expressible:
        return Q()
    _, alternatives = min(expressible, key=lambda found: found[0])  # stable: the first searchable one
    joined = _NOTHING
    for alternative in alternatives:
        joined |= alternative
    return Q(prefilter_text__isnull=True) | joined


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


def _alternative(item, lists_by_platform) -> Q | None:
    """One alternative as a condition; None when any row may satisfy it."""
    if isinstance(item, TextKey):
        return _contains(item.text)
    name = item[0]
    if name == "kind":  # the last line
        return Q(prefilter_text__endswith=_stored("\n" + skeleton(item[1])))
    if name in _ATTRIBUTES:  # a whole line
        return _line(skeleton(item[1]))
    if name == "replying":
        return ~Q(in_reply_to_handle="")
    if name == "has_links":
        return Q(links__len__gt=0)
    if name == "list":
        return _list_members(item[1], lists_by_platform)
    return None


def _stored(text: str) -> str:
    # Stored text has U+FFFD where a post had NUL, as PostgreSQL cannot hold NUL.
    return text.replace("\x00", "\ufffd")


def _contains(key: str) -> Q | None:
    return Q(prefilter_text__contains=_stored(key)) if key else None


def _line(value: str) -> Q:
    return Q(prefilter_text__contains=_stored("\n" + value + "\n"))


def _members(name_key: str, lists_by_platform) -> set[str]:
    """Handles (as compared) on the watch lists of that name, on any platform."""
    members = set()
    for lists in lists_by_platform.values():
        for name, handles in lists.items():
            if fold(name.strip()) == name_key:
                members.update(handle_key(handle) for handle in handles)
    members.discard("")  # an empty handle never matches an author
    return members


def _list_members(name_key: str, lists_by_platform) -> Q | None:
    members = _members(name_key, lists_by_platform)
    if len(members) > MAX_LIST_MEMBERS:
        return None
    joined = _NOTHING
    for member in sorted(members):
        joined |= _line(skeleton(member))  # the author's line
    return joined
