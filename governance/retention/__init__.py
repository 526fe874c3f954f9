"""Retention: what each policy would delete now, and the nightly purge that deletes exactly that.

One `RetentionPolicy` per category keeps its data `days` from the moment that starts
the category's clock; FOI monitoring data is not here (the five-day rule in
foi_monitoring/purge.py governs it). The categories, their clocks and what goes:

- **untriaged mentions**: inbox items never decided (new or in progress), from the
  moment the item arrived in its team's inbox, and their mentions; also any mention
  that no inbox item holds at all, from the moment it was first seen (nothing else
  would ever delete it).
- **dismissed items**: items whose latest decision is "no action", from that decision
  (`InboxItem.decided_at`), with their decisions and their mentions.
- **news items**: items whose latest decision is "news item", from that decision.
- **cases**: closed cases, from their closing (`Case.closed_at`): the case with its
  history and clock pauses, its inbox item with its decisions, and its mention. An open
  or waiting case is never deleted. A case closed because its decision was changed
  to "no action" or "news item" (resolution "redecided") was never casework: its
  item follows the item's own category, and that stub goes with the item. Case
  references come from a sequence, so a deleted case's reference is never reused.
- **circulations**: what was sent, from its sending, with its recipient rows.
- **harvest runs**: from the run's end (its start, for a run that never finished).
- **audit log**: from each event's time, through `audit_log_purge` (oldest first, so
  the chain stays verifiable).

A mention goes only with the last of its inbox items and only when nothing else
keeps it. It is kept by:
1. any inbox item, in any team, that this run does not delete: an open item not yet
   expired, a decided item within its own category's retention, an item with a case;
2. FOI monitoring data, which its own rule governs: an authority signal, a hit of an
   FOI-monitoring saved search, and the monitoring teams' inbox items (retention never
   deletes a monitoring team's item, except one the group made into a case);
3. a circulation still within the circulations policy (a circulation past it no
   longer keeps the mention: it only loses its link, as it does in the FOI purge);
4. a row of any other table holding a foreign key to it (or to a row that would go
   with it, such as a hit), found in PostgreSQL's catalogue at run time, so a table
   added later keeps its mentions without changing this module. Inbox items (with
   their decisions), cases (with their history), circulations and harvest runs are
   kept the same way.

Preview and purge share one definition. Each category is a pair of SQL conditions
(which items, which mentions) with the same parameters; `retention_preview` counts
the rows they select, and the purge deletes the same conditions' rows batch by batch.
A batch is the next `batch_size` candidate mentions in id order; every condition
refers only to rows of the mention's own batch, so batches do not change each other's
selection, and on an unchanged database the purge deletes exactly what the preview
counted. Categories run in a fixed order, untriaged last: a mention kept by another
team's item when a category's preview was taken can be released by an earlier
category in the same run, and the untriaged run then deletes it as a mention no item
holds. So the nightly total can exceed the sum of previews taken before it, never
fall short of what was intended.

Safe twice and concurrently: a run holds a PostgreSQL advisory lock for its whole
length, reading the policies only once it holds it; a second run waits and then finds
nothing left. Each batch is its own short transaction (row locks held for a fraction
of a second, so triage carries on); a batch a concurrent write makes fail is rolled
back, logged and left for the next night. The foreign keys onto mentions and inbox
items are ON DELETE RESTRICT (foi_monitoring migration 0003), so children always go
first. Each category run writes one PurgeRecord (category, cutoff, counts per table,
basis, policy) and an audit event. A dry run writes and locks nothing: it reports each
category's preview.
"""

from governance.retention.policy import RetentionChangeRejected, retention_days_parse, retention_policy_change
from governance.retention.purge import (
    BATCH,
    LOCK_KEY,
    CategoryResult,
    RetentionResult,
    retention_apply,
    retention_category_apply,
)
from governance.retention.selection import (
    CLOCKS,
    ITEM_CATEGORIES,
    NOUNS,
    ORDER,
    TABLES,
    describe_counts,
    retention_preview,
    unhandled_references,
)

__all__ = [
    "BATCH", "CLOCKS", "ITEM_CATEGORIES", "LOCK_KEY", "NOUNS", "ORDER", "TABLES", "CategoryResult",
    "RetentionChangeRejected", "RetentionResult", "describe_counts", "retention_apply", "retention_category_apply",
    "retention_days_parse", "retention_policy_change", "retention_preview", "unhandled_references",
]
