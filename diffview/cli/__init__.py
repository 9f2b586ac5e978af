"""The ``diffview`` command: Montage's programs' arguments, one line per error."""

from .main import build_parser, main

__all__ = ["main", "build_parser"]
