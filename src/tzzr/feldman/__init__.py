"""FELDMAN: the ledger's storage (`log`, `signing`), sealing and audit.

The pure Merkle code it stores lives in `tzzr.ledger`; this package is where that code
meets the database, the blob store and the rest of the app.
"""
