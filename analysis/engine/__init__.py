"""The outcome engine: courses, timepoints, induction outcomes, boosters, durability and their statistics."""
