"""CLARA (personal instance) and MARGARET (company instance): the ingest service."""
