"""PACKET's resumable uploads: the tus 1.0 protocol at /uploads (core, creation,
creation-with-upload, expiration, termination, checksum), onto the blob store."""
