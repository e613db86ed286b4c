"""One module per screen; ``base`` holds what every screen shares."""
