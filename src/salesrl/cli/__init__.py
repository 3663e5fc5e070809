"""The ``salesrl`` command line: thin typer commands that call the rooms and print with rich."""
