"""``python -m movie_assets.emulator``: run the TMDb emulator in the foreground."""

from movie_assets.cli.emulator import main

main()
