"""``python -m diffview``: the ``diffview`` command."""

import sys

from diffview.cli import main

if __name__ == "__main__":
    sys.exit(main())
