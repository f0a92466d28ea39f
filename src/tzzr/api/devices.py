"""PACKET's devices: register a public key, list and revoke them."""

from fastapi import APIRouter

router = APIRouter()
