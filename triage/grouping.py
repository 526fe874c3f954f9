"""One inbox item per viral post: the keys that put a team's inbox items in one group.

Every inbox item carries two keys, both 64-bit hashes that include the team (so a
lookup by key alone finds the team's group, on one index, whatever the statistics say):

- `original_key`: the post a repost or quote refers to, as (platform, external id),
  even when that original was never harvested; for any other post, the post itself.
  So an original and its reposts and quotes share it, whichever arrives first.
- `text_key`: the text after normalising case, whitespace and links (every link is
  dropped, so the same words with different short links are the same text). Empty for
  texts shorter than `TEXT_KEY_MIN_LENGTH` after normalising: "Thank you!" from many
  people is not one post.

Per team, a group is led by one item (`group` empty) and the others are members
(`group` = the leader). A new item joins the group whose leader shares either key
(the original key is tried first); otherwise it leads a new group. Within a page, items
sharing a key with each other form one group. Only leaders' keys are looked up: an item
that joined by its text does not pull in later reposts of its own original.

Deciding a leader decides its open members (`triage.services`). A repost arriving after
the decision joins quietly, decided with the group; the one exception is a group
decided as no action, reposted by a verified account or one on any watch list: that
reopens the group (`inbox_items_join_decided`).

Group membership is decided at ingest under a transaction-level advisory lock per team
(`GROUPING_LOCK_SQL`), taken before the storing statement reads the leaders, so two
pages storing reposts of one original at once cannot both make a leader. Deciding a
group takes its team's lock too, so no repost slips in undecided while it is decided.
One lock per team, not per key: a page holds a handful of locks, not hundreds, so busy
ingest cannot exhaust PostgreSQL's lock table; pages of one team store one at a time
(a statement of tens of milliseconds), pages of different teams side by side.
"""

import re
import unicodedata
from hashlib import blake2b

TEXT_KEY_MIN_LENGTH = 24

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def _hash64(*parts: str) -> int:
    """A signed 64-bit hash (bigint) of the parts."""
    digest = blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def normalised_text(text: str) -> str:
    """The text as grouping compares it: no links, one space between words, case folded."""
    text = unicodedata.normalize("NFKC", text or "")
    return _SPACE.sub(" ", _LINK.sub(" ", text)).strip().casefold()


def groupable_text(text: str) -> str:
    """The normalised text, or "" when it is too short to group by."""
    normalised = normalised_text(text)
    return normalised if len(normalised) >= TEXT_KEY_MIN_LENGTH else ""


def text_key(team_id: int, groupable: str) -> int | None:
    """The team's key for a `groupable_text`; None for "" (too short to group)."""
    return _hash64("text", str(team_id), groupable) if groupable else None


def original_of(*, platform: str, external_id: str, kind: str = "post", referenced_id: str = "") -> str:
    """The original a post belongs to: the one it reposts or quotes, or itself."""
    if kind in ("repost", "quote") and referenced_id:
        return f"{platform}\x1f{referenced_id}"
    return f"{platform}\x1f{external_id}"


def original_key(team_id: int, original: str) -> int:
    return _hash64("post", str(team_id), original)


# pg_advisory_xact_lock(namespace, team id), in team order: no deadlocks between pages.
GROUPING_LOCK_NAMESPACE = 0x45415253  # the two-key form never meets the one-key locks used elsewhere
GROUPING_LOCK_SQL = (
    "SELECT count(pg_advisory_xact_lock(%(namespace)s, (t %% 2147483647)::int))"
    " FROM unnest(%(teams)s::bigint[]) AS t"
)


def grouping_lock_params(team_ids) -> dict:
    return {"namespace": GROUPING_LOCK_NAMESPACE, "teams": sorted(set(team_ids))}


def page_parts(rows: list[tuple[int, int, int | None]]) -> list[int]:
    """For one team's rows of a page, (n, original key, text key), the part each row is in.

    Rows sharing a key, directly or through another row, are one part, named by its
    first row's n. A small union-find over the page; the storing statement then puts a
    part under an existing leader, or makes its first new row the leader.
    """
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by_key: dict[tuple[str, int], int] = {}
    for i, (_, original, text) in enumerate(rows):
        for key in (("o", original), ("t", text)):
            if key[1] is None:
                continue
            seen = first_by_key.setdefault(key, i)
            if seen != i:
                a, b = root(seen), root(i)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return [rows[root(i)][0] for i in range(len(rows))]
