"""Tables of tzzr.factory (imported by tzzr.db.models, so they are part of its metadata)."""
