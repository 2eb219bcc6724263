"""Corridors: layer files, station positions, rail routing, borders, building a layer, relating places to layers."""
