"""The synthetic demo clinic: its generator and the store it fills."""
