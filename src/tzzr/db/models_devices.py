"""Tables of tzzr.devices (imported by tzzr.db.models, so they are part of its metadata)."""
