"""`python -m fieldwatch` runs the command line."""

from fieldwatch.cli import main

main()
