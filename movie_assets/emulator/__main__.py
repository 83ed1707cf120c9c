"""``python -m movie_assets.emulator``: run the TMDb emulator in the foreground."""

from .runner import main

main()
