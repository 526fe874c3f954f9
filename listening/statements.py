"""Server-side bound, prepared statements on Django's connection, for the statements run once a page.

Django opens psycopg connections with `prepare_threshold=None`, which turns preparing off
altogether: `execute(..., prepare=True)` is then parsed and planned afresh each time. A
threshold no statement reaches keeps Django's own queries unprepared, as before, and
prepares exactly the statements that ask for it.
"""

from django.db import connection

ONLY_WHEN_ASKED = 2**31 - 1


def prepared_cursor():
    """A server-side binding cursor whose `execute(..., prepare=True)` statements are prepared once per connection."""
    from psycopg import Cursor

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = ONLY_WHEN_ASKED
    return Cursor(raw)
