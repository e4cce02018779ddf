"""The ``recobro`` command: Django's management commands, with product-friendly names.

recobro import KIND FILE --portfolio P [--profile NAME] [--skip-invalid]
recobro load_demo | migrate | runserver | …  (any management command)
"""

import os
import sys

#: Product verbs that are not valid Python module names, mapped to their commands.
ALIASES = {"import": "import_file"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recobro.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    argv[0] = "recobro"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
