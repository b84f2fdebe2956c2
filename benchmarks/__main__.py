"""``python -m benchmarks run [--suite smoke|quick|full]`` (see :mod:`benchmarks.run`)."""

import sys

from benchmarks.run import main


def _dispatch(argv: list[str]) -> int:
    if not argv or argv[0] != "run":
        print("usage: python -m benchmarks run [--suite smoke|quick|full] [--out DIR]",
              file=sys.stderr)
        return 2
    return main(argv[1:])


if __name__ == "__main__":
    sys.exit(_dispatch(sys.argv[1:]))
