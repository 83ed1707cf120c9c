"""``python -m movie_assets.emulator``: run the TMDb emulator in the foreground."""

from movie_assets.emulator.command import main

main()
