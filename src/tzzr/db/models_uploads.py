"""Tables of tzzr.uploads (imported by tzzr.db.models, so they are part of its metadata)."""
