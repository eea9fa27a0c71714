"""One router per resource: melodies, compositions, techniques, models, datasets, training jobs, status."""
