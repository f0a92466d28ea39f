"""PACKET's device provenance: a device registers a public key; each capture's
h_entrada is signed on the device, and the signature is bound into its ledger leaf."""
