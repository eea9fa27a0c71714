"""Datasets: real music in, cached piano-roll training windows out."""
