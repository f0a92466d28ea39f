"""PACKET's tus 1.0 endpoint at /uploads."""

from fastapi import APIRouter

router = APIRouter()
