"""OpenStreetMap data: columns and selectors, local extracts, Overpass queries and HTTP, caches, snapshots, the source chooser."""
