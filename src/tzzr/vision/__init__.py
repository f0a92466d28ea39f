"""VISION BUILDER: visions broken into milestones, actions, habits and key results,
with progress rolled up by weight."""
