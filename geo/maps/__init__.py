"""Maps: Folium drawing, legend and text, page templates, offline assets, PNG rendering."""
