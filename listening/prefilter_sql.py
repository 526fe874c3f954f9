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

from django.db.models import Q

from listening.query.prefilter import TextKey, requirements
from listening.query.prepared import handle_key
from listening.query.text import fold, skeleton

# A watch list with more members than this is not narrowed on in SQL.
MAX_LIST_MEMBERS = 50
_ATTRIBUTES = ("author", "reply_to", "platform", "lang", "kind")
_NOTHING = Q(pk__in=[])


def prefilter_condition(query, lists_by_platform=None) -> Q:
    """A necessary condition, in SQL, for a stored mention to match `query`."""
    condition = Q()
    for clause in requirements(query.root):
        alternatives = [_alternative(item, lists_by_platform or {}) for item in clause]
        if any(alternative is None for alternative in alternatives):
            continue  # one alternative holds anywhere: so does the clause
        joined = Q()
        for alternative in alternatives:
            joined |= alternative
        condition &= joined if alternatives else _NOTHING
    return Q(prefilter_text__isnull=True) | condition if condition else Q()


def _alternative(item, lists_by_platform) -> Q | None:
    """One alternative as a condition; None when any row may satisfy it."""
    if isinstance(item, TextKey):
        return _contains(item.text)
    name = item[0]
    if name == "kind":  # the last line
        return Q(prefilter_text__endswith="\n" + skeleton(item[1]).replace("\x00", "\ufffd"))
    if name in _ATTRIBUTES:  # a whole line
        return _line(skeleton(item[1]))
    if name == "replying":
        return ~Q(in_reply_to_handle="")
    if name == "has_links":
        return Q(links__len__gt=0)
    if name == "list":
        return _list_members(item[1], lists_by_platform)
    return None


def _contains(key: str) -> Q | None:
    # Stored text has U+FFFD where a post had NUL, as PostgreSQL cannot hold NUL.
    key = key.replace("\x00", "\ufffd")
    return Q(prefilter_text__contains=key) if key else None


def _line(value: str) -> Q:
    return Q(prefilter_text__contains="\n" + value.replace("\x00", "\ufffd") + "\n")


def _list_members(name_key: str, lists_by_platform) -> Q | None:
    members = set()
    for lists in lists_by_platform.values():
        for name, handles in lists.items():
            if fold(name.strip()) == name_key:
                members.update(handle_key(handle) for handle in handles)
    members.discard("")  # an empty handle never matches an author
    if len(members) > MAX_LIST_MEMBERS:
        return None
    joined = _NOTHING
    for member in sorted(members):
        joined |= _line(skeleton(member))  # the author's line
    return joined
