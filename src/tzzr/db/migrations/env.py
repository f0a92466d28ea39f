from alembic import context

from tzzr.db.models import Base, include_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=include_object,  # the full-text index is the migrations' own
)
with context.begin_transaction():
    context.run_migrations()
