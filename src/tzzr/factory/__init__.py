"""THE FACTORY: refinement in rounds (propose, critique, revise) with a language model,
or a deterministic planner (labelled as such) without one."""
