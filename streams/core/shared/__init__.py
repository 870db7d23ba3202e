"""Pieces every stage shares: catalogue, district model, clock, ids."""
