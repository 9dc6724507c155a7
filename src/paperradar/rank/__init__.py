"""Ranking papers for a researcher: features, the per-profile learner, interests, and spreading
results across interests. Pure functions over numpy/scipy arrays; no I/O."""
