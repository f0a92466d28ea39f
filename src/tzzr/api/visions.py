"""VISION BUILDER: /visions, /milestones, /actions, /habits, /key-results."""

from fastapi import APIRouter

router = APIRouter()
