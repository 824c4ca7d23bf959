"""Tournament support for the arena: player ratings and match organisation."""
