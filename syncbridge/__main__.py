import sys

from syncbridge.cli import main

sys.exit(main())
