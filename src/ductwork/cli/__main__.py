"""``python -m ductwork.cli``: the ``ductwork`` command."""

from ductwork.cli import main

if __name__ == "__main__":
    main()
