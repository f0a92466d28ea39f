"""Tables of tzzr.vision (imported by tzzr.db.models, so they are part of its metadata)."""
