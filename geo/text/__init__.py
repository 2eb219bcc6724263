"""Reading text: article files -> mentions -> resolved places (gazetteer, Nominatim), and the corpus entry point."""
