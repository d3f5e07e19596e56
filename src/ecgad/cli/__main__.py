"""``python -m ecgad.cli``, as the ``ecgad`` script."""
from . import main

main()
