"""`python -m longspeech.cli`."""

from . import main

main()
