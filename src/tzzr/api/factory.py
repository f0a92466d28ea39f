"""THE FACTORY: POST /factory/refine, its jobs, rounds and item decisions."""

from fastapi import APIRouter

router = APIRouter()
