"""Alembic environment: migrations always run on a connection handed in by
:meth:`shipyard.store.database.Database.migrate` (``config.attributes["connection"]``),
inside its transaction, so no ``alembic.ini`` or URL is needed here.
"""

from alembic import context

from shipyard.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
