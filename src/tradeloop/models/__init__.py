"""Models in the loop: the registry, trainers (LightGBM, linear baseline), purged
cross-validation and the model signal agents with their safe fallback."""
